namespace Parley.Storage.Sqlite;

/// <summary>Where the SQLite store keeps its file, and its quotas.</summary>
public sealed record SqliteStoreOptions(string Path)
{
    public StoreLimits Limits { get; init; } = new();

    /// <summary>The server's clock; tests may pass a fake.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
