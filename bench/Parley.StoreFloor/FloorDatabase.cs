using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Parley.StoreFloor;

/// <summary>
/// A fresh store as Parley lays one out: a main file and a history file attached as <c>history</c>, both in WAL mode
/// with <c>synchronous=FULL</c>, the writer's cache size, temporary tables in memory. Unlike Parley, checkpoints run on
/// this thread (SQLite's automatic checkpoint, every 1,000 WAL pages), so their CPU is counted with the rest.
/// Statements are prepared once and bound through SQLite's C API, with text given as UTF-8 spans.
/// </summary>
internal sealed class FloorDatabase : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3 _handle;
    private readonly List<sqlite3_stmt> _statements = [];
    private readonly sqlite3_stmt _begin;
    private readonly sqlite3_stmt _commit;

    public FloorDatabase(string folder)
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
        _connection = new SqliteConnection($"Data Source={Path.Combine(folder, "parley.db")};Pooling=False");
        _connection.Open();
        _handle = _connection.Handle!;
        Execute($"""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;
            ATTACH DATABASE '{Path.Combine(folder, "parley.history.db")}' AS history;
            PRAGMA history.journal_mode=WAL; PRAGMA history.synchronous=FULL;
            """);
        _begin = Prepare("BEGIN");
        _commit = Prepare("COMMIT");
    }

    public string Folder { get; }

    /// <summary>Bytes in the folder's files (the databases and their WALs).</summary>
    public long Bytes => new DirectoryInfo(Folder).GetFiles().Sum(file => file.Length);

    public void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row, as a number.</summary>
    public long Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_handle, sql, out var statement));
        _statements.Add(statement);
        return statement;
    }

    public void Begin() => Step(_begin);

    public void Commit() => Step(_commit);

    /// <summary>Runs a statement that returns no rows and resets it.</summary>
    public void Step(sqlite3_stmt statement)
    {
        var result = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (result != raw.SQLITE_DONE)
        {
            Check(result);
        }
    }

    public static void Bind(sqlite3_stmt statement, int index, ReadOnlySpan<byte> utf8Text) =>
        raw.sqlite3_bind_text(statement, index, utf8Text);

    public static void BindBlob(sqlite3_stmt statement, int index, ReadOnlySpan<byte> bytes) =>
        raw.sqlite3_bind_blob(statement, index, bytes);

    public static void Bind(sqlite3_stmt statement, int index, long value) =>
        raw.sqlite3_bind_int64(statement, index, value);

    public static void BindNull(sqlite3_stmt statement, int index) => raw.sqlite3_bind_null(statement, index);

    public void Dispose()
    {
        foreach (var statement in _statements)
        {
            statement.Dispose();
        }

        _connection.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Folder, recursive: true);
    }

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK && result != raw.SQLITE_ROW && result != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(result, _handle);
        }
    }
}
