namespace Parley.Storage.Sqlite.Internal;

/// <summary>Moves a device's cursor forward (never back), in the file and in the writer's cache.</summary>
internal sealed class CursorOp(string user, string device, ulong acknowledged) : WriteOp<bool>
{
    public override void Execute(WriterContext context)
    {
        var devices = context.State.Cursors(context.Connection, user);
        if (devices.TryGetValue(device, out var current) && current >= acknowledged)
        {
            SetResult(false);
            return;
        }

        using var upsert = context.Connection.CreateCommand();
        upsert.CommandText = """
            INSERT INTO devices(user, device, acked, seen) VALUES ($user, $device, $acked, $seen)
            ON CONFLICT(user, device) DO UPDATE SET acked = MAX(acked, excluded.acked), seen = excluded.seen
            """;
        upsert.Parameters.AddWithValue("$user", user);
        upsert.Parameters.AddWithValue("$device", device);
        upsert.Parameters.AddWithValue("$acked", (long)acknowledged);
        upsert.Parameters.AddWithValue("$seen", context.Now);
        upsert.ExecuteNonQuery();
        devices[device] = acknowledged;
        context.State.CursorMoved(user);
        SetResult(true);
    }
}
