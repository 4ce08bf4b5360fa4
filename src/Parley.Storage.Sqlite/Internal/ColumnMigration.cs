using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Adds nullable columns a newer schema has and an older store file lacks (ALTER TABLE … ADD COLUMN, cheap in SQLite:
/// old rows read NULL), and raises the schema version in <c>meta</c>, all in one transaction.
/// </summary>
internal static class ColumnMigration
{
    public static void AddMissing(SqliteConnection connection, IEnumerable<(string Table, string Name, string Type)> columns, int schemaVersion)
    {
        using var transaction = connection.BeginTransaction(deferred: true);
        foreach (var (table, name, type) in columns)
        {
            using var info = connection.CreateCommand();
            info.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{name}'";
            if ((long)info.ExecuteScalar()! == 0)
            {
                using var alter = connection.CreateCommand();
                alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {name} {type}";
                alter.ExecuteNonQuery();
            }
        }

        using (var version = connection.CreateCommand())
        {
            version.CommandText = $"UPDATE meta SET value = '{schemaVersion}' WHERE key = 'schema' AND CAST(value AS INTEGER) < {schemaVersion}";
            version.ExecuteNonQuery();
        }

        transaction.Commit();
    }
}
