using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// The staged tables and their merge into the indexed ones (docs/architecture.md, "The staged log"). Appends go to
/// a partition's <c>staged_log</c> and <c>staged_submits</c> tables (<see cref="StagedPartitions"/>), plain rowid tables
/// written in insertion order, so a batch of a few hundred messages dirties a handful of tail pages. Inserted straight
/// into <c>log</c> (clustered by owner, sequence) and <c>submits</c> (by sender, id), the same batch dirtied one page per
/// user and one per message, and writing those pages to the WAL was half of the writer's time. A merge moves thousands
/// of rows at once, sorted, so the indexed tables are written nearly sequentially. The staged tables are durable like
/// the others: a crash between merges loses nothing, and <see cref="RunAll"/> at startup merges what a crash left.
/// </summary>
internal static class StagedMerge
{
    /// <summary>The columns of a staged (and merged) log row, in the order appends bind them.</summary>
    public const string LogColumns = "owner, seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha, sender_seq";

    /// <summary>The columns of a staged (and merged) submission, in the order appends bind them.</summary>
    public const string SubmitColumns = "sender, id, digest, seq, time";

    /// <summary>Creates the staged tables of every partition that does not have them yet.</summary>
    public static string Schema(StagedPartitions partitions) => string.Concat(Enumerable.Range(0, partitions.Count).Select(k => $"""
        CREATE TABLE IF NOT EXISTS {StagedPartitions.LogTable(k)}(owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL,
            recipient TEXT NOT NULL, time INTEGER NOT NULL, body TEXT NOT NULL, file_id BLOB, file_name TEXT, file_size INTEGER, file_sha BLOB,
            sender_seq INTEGER);
        CREATE TABLE IF NOT EXISTS {StagedPartitions.SubmitTable(k)}(sender TEXT NOT NULL, id BLOB NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL,
            time INTEGER NOT NULL);

        """));

    /// <summary>Every staged table in the file, of any partition count this store was ever opened with.</summary>
    public static List<string> StagedTables(SqliteConnection connection)
    {
        var tables = new List<string>();
        using var list = connection.CreateCommand();
        list.CommandText = "SELECT name FROM sqlite_schema WHERE type = 'table' AND (name = 'staged_log' OR name = 'staged_submits' OR name GLOB 'staged_log_[0-9]*' OR name GLOB 'staged_submits_[0-9]*')";
        using var reader = list.ExecuteReader();
        while (reader.Read())
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    /// <summary>
    /// Moves every staged row of every staged table in the file into the indexed tables, in a transaction of its own
    /// (startup, shutdown). Found by name, so tables of partitions a previous configuration had are emptied too.
    /// </summary>
    public static void RunAll(SqliteConnection connection)
    {
        var tables = StagedTables(connection);

        if (tables.Count == 0)
        {
            return;
        }

        using var transaction = connection.BeginTransaction();
        // All staged log rows in one sorted insert, then all submissions: written in key order, as a merge does.
        var logs = tables.Where(name => name.StartsWith("staged_log", StringComparison.Ordinal)).ToList();
        var submits = tables.Where(name => name.StartsWith("staged_submits", StringComparison.Ordinal)).ToList();
        var statements = new List<string>();
        if (logs.Count > 0)
        {
            statements.Add($"INSERT INTO log({LogColumns}) SELECT {LogColumns} FROM ({string.Join(" UNION ALL ", logs.Select(t => $"SELECT {LogColumns} FROM {t}"))}) ORDER BY owner, seq");
        }

        if (submits.Count > 0)
        {
            statements.Add($"INSERT INTO submits({SubmitColumns}) SELECT {SubmitColumns} FROM ({string.Join(" UNION ALL ", submits.Select(t => $"SELECT {SubmitColumns} FROM {t}"))}) ORDER BY sender, id");
        }

        statements.AddRange(tables.Select(t => $"DELETE FROM {t}"));
        using var merge = connection.CreateCommand();
        merge.Transaction = transaction;
        merge.CommandText = string.Join(";\n", statements);
        merge.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>Moves every staged row of one partition into the indexed tables, inside the caller's transaction.</summary>
    public static void Run(SqliteConnection connection, SqliteTransaction transaction, int partition)
    {
        var log = StagedPartitions.LogTable(partition);
        var submits = StagedPartitions.SubmitTable(partition);
        using var merge = connection.CreateCommand();
        merge.Transaction = transaction;
        merge.CommandText = $"""
            INSERT INTO log({LogColumns}) SELECT {LogColumns} FROM {log} ORDER BY owner, seq;
            INSERT INTO submits({SubmitColumns}) SELECT {SubmitColumns} FROM {submits} ORDER BY sender, id;
            DELETE FROM {log};
            DELETE FROM {submits};
            """;
        merge.ExecuteNonQuery();
    }
}
