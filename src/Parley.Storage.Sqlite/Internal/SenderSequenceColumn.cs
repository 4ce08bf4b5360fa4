using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// The log's <c>sender_seq</c> column (schema 3): in a recipient's entry, the sequence of the sender's own copy of the
/// message, so a delivery receipt reads it from the rows its range covers instead of joining every row with the
/// dedupe table. 0 in a sender's own copy and in a bot's reply (no other log to send a receipt to; receipts only look
/// at rows from others); NULL in rows written before the column, whose receipts still come from <c>submits</c>. Added
/// with ALTER TABLE when missing, to <c>log</c> and to every staged log table, before the startup merge copies staged
/// rows with it.
/// </summary>
internal static class SenderSequenceColumn
{
    public const int SchemaVersion = 3;

    public static void Migrate(SqliteConnection connection) =>
        ColumnMigration.AddMissing(connection,
            new[] { "log" }.Concat(StagedMerge.StagedTables(connection).Where(name => name.StartsWith("staged_log", StringComparison.Ordinal)))
                .Select(table => (table, "sender_seq", "INTEGER")),
            SchemaVersion);
}
