using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// The writer thread's prepared statements, one per SQL text, kept for the life of the write connection. A new
/// SqliteCommand per message would make SQLite parse and plan the same few statements for every append; reusing the
/// command keeps its prepared statement and only rebinds the values.
/// </summary>
internal sealed class CommandCache(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>The transaction of the batch being written; every command handed out joins it.</summary>
    public SqliteTransaction? Transaction { get; set; }

    /// <summary>
    /// The command for <paramref name="sql"/>, with one parameter per name in <paramref name="parameters"/>, in that
    /// order (set them by index). Values left from the previous use are overwritten by the caller.
    /// </summary>
    public SqliteCommand Get(string sql, params ReadOnlySpan<string> parameters)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name, Value = DBNull.Value });
            }

            _commands[sql] = command;
        }

        command.Transaction = Transaction;
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }
}
