using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>The statements every append and cursor move runs, prepared once on the writer's connection (<see cref="RawStatement"/>).</summary>
internal sealed class AppendStatements(SqliteConnection connection) : IDisposable
{
    /// <summary>A merged submission by (sender, id): digest, seq, time.</summary>
    public RawStatement FindSubmit { get; } = new(connection, "SELECT digest, seq, time FROM submits WHERE sender = ?1 AND id = ?2");

    public RawStatement InsertStaged { get; } = new(connection,
        "INSERT INTO staged_log(owner, seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha) " +
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");

    public RawStatement InsertStagedSubmit { get; } = new(connection,
        "INSERT INTO staged_submits(sender, id, digest, seq, time) VALUES (?1, ?2, ?3, ?4, ?5)");

    /// <summary>Moves a device's cursor (never back) and records when it was last seen.</summary>
    public RawStatement UpsertDevice { get; } = new(connection,
        "INSERT INTO devices(user, device, acked, seen) VALUES (?1, ?2, ?3, ?4) " +
        "ON CONFLICT(user, device) DO UPDATE SET acked = MAX(acked, excluded.acked), seen = excluded.seen");

    public void Dispose()
    {
        UpsertDevice.Dispose();
        FindSubmit.Dispose();
        InsertStaged.Dispose();
        InsertStagedSubmit.Dispose();
    }
}
