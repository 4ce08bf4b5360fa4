namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Moves a device's cursor forward (never back), in the file and in the writer's cache. When it moves past the
/// user's most advanced cursor, the messages from others in between have reached the user for the first time: one
/// delivery receipt per sender goes to <see cref="WriterContext.Receipts"/>.
/// </summary>
internal sealed class CursorOp(string user, string device, ulong acknowledged) : WriteOp<bool>
{
    public (string User, string Device) Key => (user, device);

    public ulong Acknowledged => acknowledged;

    public override void Execute(WriterContext context)
    {
        // A client acknowledges every read; several ACKs of one device in one batch become one write, to the highest,
        // with one set of receipts (the others then find the cursor already there).
        var target = Math.Max(acknowledged, context.CursorTargets.GetValueOrDefault((user, device)));
        var devices = context.State.Cursors(context.Connection, user);
        if (devices.TryGetValue(device, out var current) && current >= target)
        {
            SetResult(false);
            return;
        }

        var delivered = devices.Count == 0 ? 0 : devices.Values.Max();
        var upsert = context.Statements.UpsertDevice;
        upsert.Bind(1, user);
        upsert.Bind(2, device);
        upsert.Bind(3, (long)target);
        upsert.Bind(4, context.Now);
        upsert.Execute();
        devices[device] = target;
        context.State.CursorMoved(user);
        if (target > delivered)
        {
            AddReceipts(context, delivered, target);
        }

        SetResult(true);
    }

    /// <summary>
    /// The newest message per sender in (<paramref name="after"/>, <paramref name="upTo"/>], mapped to its place in
    /// the sender's log: for staged entries from the staged log, which keeps it beside the entry; for entries of the
    /// last few merges from <see cref="RecentlyMerged"/>; for older ones from the log rows' <c>sender_seq</c>
    /// (<see cref="SenderSequenceColumn"/>), or through the dedupe table for rows older than that column.
    /// </summary>
    private void AddReceipts(WriterContext context, ulong after, ulong upTo)
    {
        var newest = new Dictionary<string, ulong>(StringComparer.Ordinal);
        context.State.Staged.NewestPerSender(user, after, upTo, newest);
        if (context.State.Staged.AllStagedAfter(user, after))
        {
            // The whole range is still staged: the log table holds none of it.
            AddAll(context, newest);
            return;
        }

        if (context.State.Merged.HoldsAllAfter(user, after))
        {
            // The rest was merged lately and is remembered: no join needed either.
            context.State.Merged.NewestPerSender(user, after, upTo, newest);
            AddAll(context, newest);
            return;
        }

        // The rest from the log's rows: each recipient entry carries its sender's sequence (sender_seq, schema 3); only
        // rows written before that column look theirs up in submits. No partition can hide one: every row of that age
        // and its submission were merged at the start that added the column.
        var query = context.Commands.Get(
            """
            SELECT l.sender, MAX(COALESCE(l.sender_seq, (SELECT s.seq FROM submits s WHERE s.sender = l.sender AND s.id = l.id)))
            FROM log l
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
                // 0: no copy in the sender's log (a bot's reply); NULL: an old row whose submission is gone.
                if (!reader.IsDBNull(1) && reader.GetInt64(1) > 0)
                {
                    Raise(newest, reader.GetString(0), (ulong)reader.GetInt64(1));
                }
            }
        }

        AddAll(context, newest);
    }

    private static void Raise(Dictionary<string, ulong> newest, string sender, ulong sequence)
    {
        if (!newest.TryGetValue(sender, out var known) || known < sequence)
        {
            newest[sender] = sequence;
        }
    }

    private void AddAll(WriterContext context, Dictionary<string, ulong> newest)
    {
        foreach (var (sender, sequence) in newest)
        {
            context.Receipts.Add(new DeliveryReceipt(sender, user, sequence));
        }
    }
}
