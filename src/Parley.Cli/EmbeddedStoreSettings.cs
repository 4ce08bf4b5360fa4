namespace Parley.Cli;

/// <summary>
/// The `serve` options that tune the embedded SQLite store (ignored in cluster mode): entries staged before a merge,
/// and the writer connection's page cache in bytes.
/// </summary>
internal sealed record EmbeddedStoreSettings(int StagedEntries, long WriterCacheBytes);
