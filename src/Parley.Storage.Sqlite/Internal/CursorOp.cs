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
    /// last few merges from <see cref="RecentlyMerged"/>; for older ones through the dedupe table, which records the
    /// sender's sequence of every submission.
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

        // The sender's submission may still be staged in the sender's partition while this entry was merged with the
        // owner's, so the staged submissions are joined too.
        var query = context.Commands.Get(
            "SELECT sender, MAX(seq) FROM (" +
            string.Join(" UNION ALL ", new[] { "submits" }.Concat(context.Partitions.SubmitTables).Select(table =>
                $"SELECT l.sender AS sender, s.seq AS seq FROM log l JOIN {table} s ON s.sender = l.sender AND s.id = l.id " +
                "WHERE l.owner = $owner AND l.seq > $after AND l.seq <= $upTo AND l.sender <> $owner")) +
            ") GROUP BY sender",
            "$owner", "$after", "$upTo");
        query.Parameters[0].Value = user;
        query.Parameters[1].Value = (long)after;
        query.Parameters[2].Value = (long)upTo;
        using (var reader = query.ExecuteReader())
        {
            while (reader.Read())
            {
                var sender = reader.GetString(0);
                var sequence = (ulong)reader.GetInt64(1);
                if (!newest.TryGetValue(sender, out var known) || known < sequence)
                {
                    newest[sender] = sequence;
                }
            }
        }

        AddAll(context, newest);
    }

    private void AddAll(WriterContext context, Dictionary<string, ulong> newest)
    {
        foreach (var (sender, sequence) in newest)
        {
            context.Receipts.Add(new DeliveryReceipt(sender, user, sequence));
        }
    }
}
