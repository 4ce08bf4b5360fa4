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

    public static void Migrate(SqliteConnection connection)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        using (var info = connection.CreateCommand())
        {
            info.CommandText = "SELECT name FROM pragma_table_info('log')";
            using var reader = info.ExecuteReader();
            while (reader.Read())
            {
                present.Add(reader.GetString(0));
            }
        }

        (string Name, string Type)[] columns = [("file_id", "BLOB"), ("file_name", "TEXT"), ("file_size", "INTEGER"), ("file_sha", "BLOB")];
        using var transaction = connection.BeginTransaction();
        foreach (var (name, type) in columns)
        {
            if (present.Contains(name))
            {
                continue;
            }

            using var alter = connection.CreateCommand();
            alter.CommandText = $"ALTER TABLE log ADD COLUMN {name} {type}";
            alter.ExecuteNonQuery();
        }

        using (var version = connection.CreateCommand())
        {
            version.CommandText = $"UPDATE meta SET value = '{SchemaVersion}' WHERE key = 'schema' AND CAST(value AS INTEGER) < {SchemaVersion}";
            version.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>The offer in the four columns starting at <paramref name="first"/>, or null for a plain message.</summary>
    public static FileOffer? Read(DbDataReader reader, int first) =>
        reader.IsDBNull(first)
            ? null
            : new FileOffer(new MessageId((byte[])reader.GetValue(first)), reader.GetString(first + 1), (ulong)reader.GetInt64(first + 2),
                (byte[])reader.GetValue(first + 3));
}
