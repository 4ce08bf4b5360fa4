using Microsoft.Data.Sqlite;
using Parley.Storage;
using Parley.Storage.Sqlite;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>A <see cref="SqliteChatStore"/> on a file in a fresh temp folder; can be closed and reopened on the same file.</summary>
internal sealed class TempStore : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly StoreLimits _limits;
    private readonly TimeProvider _time;
    private readonly int _stagedEntries;
    private readonly int _stagedPartitions;

    /// <param name="stagedEntries">Merge a staged partition after this many entries (a small number makes merges frequent).</param>
    /// <param name="stagedPartitions">Partitions of the staged log; null for the store's default.</param>
    public TempStore(StoreLimits? limits = null, TimeProvider? time = null, int stagedEntries = 8192, int? stagedPartitions = null)
    {
        _stagedPartitions = stagedPartitions ?? new SqliteStoreOptions("unused").StagedPartitions;
        _limits = limits ?? new StoreLimits();
        _time = time ?? TimeProvider.System;
        _stagedEntries = stagedEntries;
        Path = _directory.Combine("parley.db");
        Store = Open();
    }

    public string Path { get; }

    public SqliteChatStore Store { get; private set; }

    /// <summary>
    /// Closes the store (every queued write finishes) and opens the same file again, running <paramref name="whileClosed"/>
    /// on the file's path in between (to make it look like an older or crashed store).
    /// </summary>
    public async Task ReopenAsync(Action<string>? whileClosed = null)
    {
        await Store.DisposeAsync();
        whileClosed?.Invoke(Path);
        Store = Open();
    }

    /// <summary>Creates accounts with a placeholder hash.</summary>
    public async Task CreateUsersAsync(params string[] users)
    {
        foreach (var user in users)
        {
            Assert.True(await Store.CreateUserAsync(user, "$placeholder"));
        }
    }

    private SqliteChatStore Open() => SqliteChatStore.Open(new SqliteStoreOptions(Path) { Limits = _limits, Time = _time, StagedEntries = _stagedEntries, StagedPartitions = _stagedPartitions });

    /// <summary>Rows of <paramref name="table"/>; for <c>staged_log</c> and <c>staged_submits</c>, of every partition's table.</summary>
    public static long CountRows(string path, string table)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_schema WHERE type = 'table' AND (name = $table OR name GLOB $table || '_[0-9]*')";
            list.Parameters.AddWithValue("$table", table);
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        using var count = connection.CreateCommand();
        count.CommandText = "SELECT " + string.Join(" + ", tables.Select(name => $"(SELECT COUNT(*) FROM {name})"));
        return (long)count.ExecuteScalar()!;
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        _directory.Dispose();
    }
}
