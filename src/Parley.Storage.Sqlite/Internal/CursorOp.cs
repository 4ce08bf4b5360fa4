namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Moves a device's cursor forward (never back), in the file and in the writer's cache. When it moves past the
/// user's most advanced cursor, the messages from others in between have reached the user for the first time: one
/// delivery receipt per sender goes to <see cref="WriterContext.Receipts"/>.
/// </summary>
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

        var delivered = devices.Count == 0 ? 0 : devices.Values.Max();
        var upsert = context.Commands.Get(
            """
            INSERT INTO devices(user, device, acked, seen) VALUES ($user, $device, $acked, $seen)
            ON CONFLICT(user, device) DO UPDATE SET acked = MAX(acked, excluded.acked), seen = excluded.seen
            """,
            "$user", "$device", "$acked", "$seen");
        upsert.Parameters[0].Value = user;
        upsert.Parameters[1].Value = device;
        upsert.Parameters[2].Value = (long)acknowledged;
        upsert.Parameters[3].Value = context.Now;
        upsert.ExecuteNonQuery();
        devices[device] = acknowledged;
        context.State.CursorMoved(user);
        if (acknowledged > delivered)
        {
            AddReceipts(context, delivered, acknowledged);
        }

        SetResult(true);
    }

    /// <summary>
    /// The newest message per sender in (<paramref name="after"/>, <paramref name="upTo"/>], mapped to its place in
    /// the sender's log: for merged entries through the dedupe table, which records the sender's sequence of every
    /// submission; for staged ones from the staged log, which keeps it beside the entry.
    /// </summary>
    private void AddReceipts(WriterContext context, ulong after, ulong upTo)
    {
        var newest = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var query = context.Commands.Get(
            """
            SELECT l.sender, MAX(s.seq) FROM log l JOIN submits s ON s.sender = l.sender AND s.id = l.id
            WHERE l.owner = $owner AND l.seq > $after AND l.seq <= $upTo AND l.sender <> $owner
            GROUP BY l.sender
            """,
            "$owner", "$after", "$upTo");
        query.Parameters[0].Value = user;
        query.Parameters[1].Value = (long)after;
        query.Parameters[2].Value = (long)upTo;
        using (var reader = query.ExecuteReader())
        {
            while (reader.Read())
            {
                newest[reader.GetString(0)] = (ulong)reader.GetInt64(1);
            }
        }

        context.State.Staged.NewestPerSender(user, after, upTo, newest);
        foreach (var (sender, sequence) in newest)
        {
            context.Receipts.Add(new DeliveryReceipt(sender, user, sequence));
        }
    }
}
