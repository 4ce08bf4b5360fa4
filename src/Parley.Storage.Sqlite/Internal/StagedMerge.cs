using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// The staged tables and their merge into the indexed ones (docs/architecture.md, "The staged log"). Appends go to
/// <c>staged_log</c> and <c>staged_submits</c>, plain rowid tables written in insertion order, so a batch of a few
/// hundred messages dirties a handful of tail pages. Inserted straight into <c>log</c> (clustered by owner, sequence)
/// and <c>submits</c> (by sender, id), the same batch dirtied one page per user and one per message, and writing those
/// pages to the WAL was half of the writer's time. A merge moves thousands of rows at once, sorted, so the indexed
/// tables are written nearly sequentially. Both tables are durable like the others: a crash between merges loses
/// nothing, and <see cref="Run"/> at startup merges what a crash left.
/// </summary>
internal static class StagedMerge
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS staged_log(owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL,
            recipient TEXT NOT NULL, time INTEGER NOT NULL, body TEXT NOT NULL, file_id BLOB, file_name TEXT, file_size INTEGER, file_sha BLOB);
        CREATE TABLE IF NOT EXISTS staged_submits(sender TEXT NOT NULL, id BLOB NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL,
            time INTEGER NOT NULL);
        """;

    private const string Statements = """
        INSERT INTO log(owner, seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha)
            SELECT owner, seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha FROM staged_log ORDER BY owner, seq;
        INSERT INTO submits(sender, id, digest, seq, time)
            SELECT sender, id, digest, seq, time FROM staged_submits ORDER BY sender, id;
        DELETE FROM staged_log;
        DELETE FROM staged_submits;
        """;

    /// <summary>Moves every staged row into the indexed tables in a transaction of its own (startup, shutdown).</summary>
    public static void Run(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        Run(connection, transaction);
        transaction.Commit();
    }

    /// <summary>Moves every staged row into the indexed tables, inside the caller's transaction.</summary>
    public static void Run(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var merge = connection.CreateCommand();
        merge.Transaction = transaction;
        merge.CommandText = Statements;
        merge.ExecuteNonQuery();
    }
}
