using System.Data.Common;
using Microsoft.Data.Sqlite;
using Parley.Protocol;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// The log's file-offer columns (schema 2). They are nullable and added with ALTER TABLE when missing, so a store file
/// written before file transfer opens unchanged: its rows read as plain messages.
/// </summary>
internal static class FileColumns
{
    public const int SchemaVersion = 2;

    public static void Migrate(SqliteConnection connection) =>
        ColumnMigration.AddMissing(connection,
            [("log", "file_id", "BLOB"), ("log", "file_name", "TEXT"), ("log", "file_size", "INTEGER"), ("log", "file_sha", "BLOB")], SchemaVersion);

    /// <summary>The offer in the four columns starting at <paramref name="first"/>, or null for a plain message.</summary>
    public static FileOffer? Read(DbDataReader reader, int first) =>
        reader.IsDBNull(first)
            ? null
            : new FileOffer(new MessageId((byte[])reader.GetValue(first)), reader.GetString(first + 1), (ulong)reader.GetInt64(first + 2),
                (byte[])reader.GetValue(first + 3));
}
