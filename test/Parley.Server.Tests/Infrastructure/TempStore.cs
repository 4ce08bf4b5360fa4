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

    /// <summary>
    /// A plain connection to the store at <paramref name="path"/> (closed or not) with its history file attached as
    /// <c>history</c>, as the store's own connections have it: SQL without a schema finds <c>log</c> and
    /// <c>submits</c> there (or in the main file of a store from before the history file).
    /// </summary>
    public static SqliteConnection Connect(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var attach = connection.CreateCommand();
        attach.CommandText = "ATTACH DATABASE $history AS history";
        attach.Parameters.AddWithValue("$history", new SqliteStoreOptions(path).HistoryPath);
        attach.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Deletes the history file of the (closed) store at <paramref name="path"/>, with its WAL.</summary>
    public static void DeleteHistoryFile(string path)
    {
        SqliteConnection.ClearAllPools();
        var history = new SqliteStoreOptions(path).HistoryPath;
        foreach (var file in new[] { history, history + "-wal", history + "-shm" })
        {
            File.Delete(file);
        }
    }

    /// <summary>Copies the store's files (both, with their WALs) as a crash would leave them, to <paramref name="to"/>.</summary>
    public static void CopyFiles(string path, string to)
    {
        var history = new SqliteStoreOptions(path).HistoryPath;
        var copiedHistory = new SqliteStoreOptions(to).HistoryPath;
        foreach (var (from, into) in new[] { (path, to), (history, copiedHistory) })
        {
            File.Copy(from, into);
            if (File.Exists(from + "-wal"))
            {
                File.Copy(from + "-wal", into + "-wal");
            }
        }
    }

    /// <summary>
    /// Rows of <paramref name="table"/> in either file; for <c>staged_log</c> and <c>staged_submits</c>, of every
    /// partition's table.
    /// </summary>
    public static long CountRows(string path, string table)
    {
        using var connection = Connect(path);
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = """
                SELECT 'main.' || name FROM main.sqlite_schema WHERE type = 'table' AND (name = $table OR name GLOB $table || '_[0-9]*')
                UNION ALL SELECT 'history.' || name FROM history.sqlite_schema WHERE type = 'table' AND (name = $table OR name GLOB $table || '_[0-9]*')
                """;
            list.Parameters.AddWithValue("$table", table);
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.NotEmpty(tables);
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
