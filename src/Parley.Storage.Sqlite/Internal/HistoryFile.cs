using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// The history file (docs/architecture.md, "The history file"): the merged, indexed <c>log</c> and <c>submits</c>
/// tables, in a second SQLite file attached to every connection of the store as <c>history</c>. SQLite lets one
/// connection write a file at a time, so while the merges wrote into the main file the writer's appends waited for
/// them (20-50 ms every few seconds under load, and half of the writer's CPU in W1). In their own file the merges run
/// on their own thread (<see cref="MergeWorker"/>) beside the writer. The tables keep their names: SQL that does not
/// name a schema finds them in <c>history</c> once the main file no longer has them.
/// <para>Every transaction of the store is DEFERRED (<c>BeginTransaction(deferred: true)</c>): BEGIN IMMEDIATE, the
/// default of Microsoft.Data.Sqlite, takes the write lock of every attached file at once, so the writer and the merge
/// thread would wait for each other again. Deferred, each takes the lock of the one file it writes when it first
/// writes it. Each file has one writer (the writer thread for the main file, the merge thread for the history
/// file), so upgrading a read to a write never finds a newer snapshot.</para>
/// </summary>
internal static class HistoryFile
{
    /// <summary>The name the history file is attached under.</summary>
    public const string Schema = "history";

    /// <summary>The store's schema version: 4 once the log lived in the history file, 5 once its tables are rowid tables (<see cref="Tables"/>).</summary>
    public const int SchemaVersion = 5;

    /// <summary>Connections (their SQLite handles, which pooling keeps open) that already have the file attached.</summary>
    private static readonly ConditionalWeakTable<sqlite3, object> Attached = new();

    /// <summary>
    /// Attaches the history file to <paramref name="connection"/> unless it is already (a pooled connection keeps it),
    /// in WAL mode. Its synchronous mode, which SQLite keeps per connection and per attached file, is the caller's to
    /// set on every open (security.md V7), with the main file's.
    /// </summary>
    public static void AttachOnce(SqliteConnection connection, string path)
    {
        var handle = connection.Handle!;
        if (Attached.TryGetValue(handle, out _))
        {
            return;
        }

        using var attach = connection.CreateCommand();
        attach.CommandText = $"ATTACH DATABASE $path AS {Schema}; PRAGMA {Schema}.journal_mode=WAL;";
        attach.Parameters.AddWithValue("$path", path);
        attach.ExecuteNonQuery();
        Attached.AddOrUpdate(handle, Schema);
    }

    /// <summary>
    /// The history file's tables, created when missing, with every column of the current schema. Each is a rowid
    /// table with a unique index on its key (schema 5): merges append rows at the table's end, where SQLite adds a page
    /// without rebalancing, and only the small index entries go to each owner's place in the key order. Clustered by
    /// the key (<c>WITHOUT ROWID</c>, schema 4), every merge inserted whole rows at every owner's tail in the middle of
    /// the tree and split a full page there about every thirty rows (docs/performance.md, session 13). The unique
    /// indexes keep <c>INSERT OR IGNORE</c> of a row merged twice (after a crash) a no-op, as the primary keys did.
    /// </summary>
    public const string Tables = $"""
        {LogTable};
        CREATE UNIQUE INDEX IF NOT EXISTS {Schema}.log_by_owner ON log(owner, seq);
        {SubmitsTable};
        CREATE UNIQUE INDEX IF NOT EXISTS {Schema}.submits_by_sender ON submits(sender, id);
        """;

    private const string LogTable = $"""
        CREATE TABLE IF NOT EXISTS {Schema}.log(owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL,
            recipient TEXT NOT NULL, time INTEGER NOT NULL, body TEXT NOT NULL, file_id BLOB, file_name TEXT, file_size INTEGER,
            file_sha BLOB, sender_seq INTEGER)
        """;

    private const string SubmitsTable = $"""
        CREATE TABLE IF NOT EXISTS {Schema}.submits(sender TEXT NOT NULL, id BLOB NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL,
            time INTEGER NOT NULL)
        """;

    /// <summary>
    /// Rebuilds the tables of a schema-4 history file, clustered by their keys, as the rowid tables of
    /// <see cref="Tables"/> (run before it). Each table in one transaction of the history file alone, so a crash keeps
    /// either the old table or the new one whole; the copy reads the old table in key order, so the new one is
    /// written in that order too. Takes as long as copying the history once; it happens on the first start after the
    /// upgrade.
    /// </summary>
    public static void RebuildClusteredTables(SqliteConnection connection)
    {
        foreach (var (table, definition, columns) in new[] { ("log", LogTable, StagedMerge.LogColumns), ("submits", SubmitsTable, StagedMerge.SubmitColumns) })
        {
            using var check = connection.CreateCommand();
            check.CommandText = $"SELECT sql FROM {Schema}.sqlite_schema WHERE type = 'table' AND name = $name";
            check.Parameters.AddWithValue("$name", table);
            if (check.ExecuteScalar() is not string sql || !sql.Contains("WITHOUT ROWID", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            using var rebuild = connection.BeginTransaction(deferred: true);
            using var statement = connection.CreateCommand();
            statement.Transaction = rebuild;
            statement.CommandText = $"""
                ALTER TABLE {Schema}.{table} RENAME TO {table}_clustered;
                {definition};
                INSERT INTO {Schema}.{table}({columns}) SELECT {columns} FROM {Schema}.{table}_clustered;
                DROP TABLE {Schema}.{table}_clustered;
                """;
            statement.ExecuteNonQuery();
            rebuild.Commit();
        }
    }

    /// <summary>Whether the main file still has a table <paramref name="table"/> (a store written before the history file).</summary>
    public static bool MainHas(SqliteConnection connection, string table)
    {
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT COUNT(*) FROM main.sqlite_schema WHERE type = 'table' AND name = $name";
        query.Parameters.AddWithValue("$name", table);
        return (long)query.ExecuteScalar()! > 0;
    }

    /// <summary>
    /// Moves <c>log</c> and <c>submits</c> of a store written before the history file (schema 3 or older, columns
    /// already migrated) out of the main file. Two transactions, because SQLite commits a transaction over two WAL
    /// files one file at a time: first the copy into the history file, then the drop in the main one. A crash between
    /// leaves the rows in both, and the next start copies again, ignoring what is already there.
    /// </summary>
    public static void MoveFromMain(SqliteConnection connection)
    {
        if (!MainHas(connection, "log"))
        {
            return;
        }

        using (var copy = connection.BeginTransaction(deferred: true))
        {
            using var insert = connection.CreateCommand();
            insert.Transaction = copy;
            insert.CommandText = $"""
                INSERT OR IGNORE INTO {Schema}.log({StagedMerge.LogColumns}) SELECT {StagedMerge.LogColumns} FROM main.log ORDER BY owner, seq;
                INSERT OR IGNORE INTO {Schema}.submits({StagedMerge.SubmitColumns}) SELECT {StagedMerge.SubmitColumns} FROM main.submits ORDER BY sender, id;
                """;
            insert.ExecuteNonQuery();
            copy.Commit();
        }

        using var drop = connection.BeginTransaction(deferred: true);
        using var statement = connection.CreateCommand();
        statement.Transaction = drop;
        statement.CommandText = $"""
            DROP TABLE main.log;
            DROP TABLE IF EXISTS main.submits;
            """;
        statement.ExecuteNonQuery();
        drop.Commit();
    }
}
