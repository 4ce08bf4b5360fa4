using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// The staged tables and their merge into the indexed ones (docs/architecture.md, "The staged log"). Appends go to
/// a partition's <c>staged_log</c> and <c>staged_submits</c> tables (<see cref="StagedPartitions"/>), plain rowid tables
/// written in insertion order, so a batch of a few hundred messages dirties a handful of tail pages. Inserted straight
/// into <c>log</c> (indexed by owner, sequence) and <c>submits</c> (by sender, id), the same batch dirtied one page per
/// user and one per message, and writing those pages to the WAL was half of the writer's time. A merge moves thousands
/// of rows at once, so each page of the indexed tables it dirties takes many rows. The staged tables are durable like
/// the others: a crash between merges loses nothing, and <see cref="RunAll"/> at startup merges what a crash left.
/// The indexed tables are in the history file (<see cref="HistoryFile"/>), and a merge runs on its own thread
/// (<see cref="MergeWorker"/>) in two steps: <see cref="Run"/> copies, <see cref="DeleteMerged"/> deletes.
/// </summary>
internal static class StagedMerge
{
    /// <summary>The columns of a staged (and merged) log row, in the order appends bind them.</summary>
    public const string LogColumns = "owner, seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha, sender_seq";

    /// <summary>The columns of a staged (and merged) submission, in the order appends bind them.</summary>
    public const string SubmitColumns = "sender, id, digest, seq, time";

    /// <summary>Creates the staged tables of every partition that does not have them yet.</summary>
    public static string Schema(StagedPartitions partitions) => string.Concat(partitions.LogTables.Zip(partitions.SubmitTables, (log, submits) => $"""
        CREATE TABLE IF NOT EXISTS {log}(owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL,
            recipient TEXT NOT NULL, time INTEGER NOT NULL, body TEXT NOT NULL, file_id BLOB, file_name TEXT, file_size INTEGER, file_sha BLOB,
            sender_seq INTEGER);
        CREATE TABLE IF NOT EXISTS {submits}(sender TEXT NOT NULL, id BLOB NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL,
            time INTEGER NOT NULL);

        """));

    /// <summary>Every staged table in the file, of any partition count this store was ever opened with.</summary>
    public static List<string> StagedTables(SqliteConnection connection)
    {
        var tables = new List<string>();
        using var list = connection.CreateCommand();
        list.CommandText = "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND (name = 'staged_log' OR name = 'staged_submits' OR name GLOB 'staged_log_[0-9]*' OR name GLOB 'staged_submits_[0-9]*')";
        using var reader = list.ExecuteReader();
        while (reader.Read())
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    /// <summary>
    /// Moves every staged row of every staged table in the main file into the history file's tables (startup,
    /// shutdown; no merge is running then). Found by name, so tables of partitions a previous configuration had are
    /// emptied too. Two transactions, the copy first (see <see cref="HistoryFile.MoveFromMain"/>): a crash between leaves
    /// rows in both files, which the next start copies again, ignoring those already merged, and then deletes.
    /// </summary>
    public static void RunAll(SqliteConnection connection)
    {
        var tables = StagedTables(connection);

        if (tables.Count == 0)
        {
            return;
        }

        // All staged log rows in one insert, then all submissions. Sorted, unlike a merge's: the union of several tables
        // (two slots, old partition counts) does not keep each owner's rows in rising order, and this runs once a start.
        var logs = tables.Where(name => name.StartsWith("staged_log", StringComparison.Ordinal)).ToList();
        var submits = tables.Where(name => name.StartsWith("staged_submits", StringComparison.Ordinal)).ToList();
        var statements = new List<string>();
        if (logs.Count > 0)
        {
            statements.Add($"INSERT OR IGNORE INTO {HistoryFile.Schema}.log({LogColumns}) SELECT {LogColumns} FROM ({string.Join(" UNION ALL ", logs.Select(t => $"SELECT {LogColumns} FROM main.{t}"))}) ORDER BY owner, seq");
        }

        if (submits.Count > 0)
        {
            statements.Add($"INSERT OR IGNORE INTO {HistoryFile.Schema}.submits({SubmitColumns}) SELECT {SubmitColumns} FROM ({string.Join(" UNION ALL ", submits.Select(t => $"SELECT {SubmitColumns} FROM main.{t}"))}) ORDER BY sender, id");
        }

        Execute(connection, string.Join(";\n", statements));
        Execute(connection, string.Join(";\n", tables.Select(t => $"DELETE FROM main.{t}")));
    }

    /// <summary>
    /// The merge of one partition, on the merge thread's connection (the history file as <c>main</c>, the store's main
    /// file attached as <c>stage</c>): its staged rows up to the job's rowids, in staged order, into the history file's
    /// tables, in one transaction that writes only the history file. The writer deletes them from the staged tables
    /// after this commits (<see cref="DeleteMerged"/>). OR IGNORE: after a crash between the two, the rows are merged
    /// again. Not sorted: every owner's log rows are staged in rising sequence order (and a Parley client's ids rise
    /// with time), so each lands at the tail of its owner's range either way, on a page the cache holds; an
    /// <c>ORDER BY</c> only added SQLite's sorter, which copied and sorted every row and took a fifth to a third of the
    /// merge thread's time (docs/performance.md, session 12).
    /// </summary>
    public static void Run(SqliteConnection history, MergeJob job)
    {
        using var transaction = history.BeginTransaction(deferred: true);
        using var merge = history.CreateCommand();
        merge.Transaction = transaction;
        merge.CommandText = $"""
            INSERT OR IGNORE INTO main.log({LogColumns}) SELECT {LogColumns} FROM {MergeWorker.StageSchema}.{StagedPartitions.LogTable(job.Partition, job.Slot)} WHERE rowid <= $log;
            INSERT OR IGNORE INTO main.submits({SubmitColumns}) SELECT {SubmitColumns} FROM {MergeWorker.StageSchema}.{StagedPartitions.SubmitTable(job.Partition, job.Slot)} WHERE rowid <= $submits;
            """;
        merge.Parameters.AddWithValue("$log", job.LastLogRow);
        merge.Parameters.AddWithValue("$submits", job.LastSubmitRow);
        merge.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>
    /// The writer's half of a merge, after <see cref="Run"/> committed: the merged rows leave the staged tables. Appends
    /// went to the partition's other slot since the job was taken, so the job's tables hold exactly its rows and are
    /// truncated: SQLite frees their pages whole instead of deleting row by row (<see cref="StagedPartitions"/>). Should
    /// a table hold a row past the job's (it cannot, unless that rule is broken), only the job's rows are deleted.
    /// </summary>
    public static void DeleteMerged(SqliteConnection connection, SqliteTransaction transaction, MergeJob job)
    {
        var exact = LastRows(connection, transaction, job.Partition, job.Slot) == (job.LastLogRow, job.LastSubmitRow);
        string Condition(string parameter) => exact ? "" : $" WHERE rowid <= {parameter}";
        using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = $"""
            DELETE FROM main.{StagedPartitions.LogTable(job.Partition, job.Slot)}{Condition("$log")};
            DELETE FROM main.{StagedPartitions.SubmitTable(job.Partition, job.Slot)}{Condition("$submits")};
            """;
        delete.Parameters.AddWithValue("$log", job.LastLogRow);
        delete.Parameters.AddWithValue("$submits", job.LastSubmitRow);
        delete.ExecuteNonQuery();
    }

    /// <summary>The highest rowid in a slot's two staged tables (0 when empty): where a merge that starts now ends.</summary>
    public static (long Log, long Submits) LastRows(SqliteConnection connection, SqliteTransaction? transaction, int partition, int slot)
    {
        using var query = connection.CreateCommand();
        query.Transaction = transaction;
        query.CommandText = $"SELECT (SELECT COALESCE(MAX(rowid), 0) FROM main.{StagedPartitions.LogTable(partition, slot)}), (SELECT COALESCE(MAX(rowid), 0) FROM main.{StagedPartitions.SubmitTable(partition, slot)})";
        using var reader = query.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var transaction = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
        transaction.Commit();
    }
}
