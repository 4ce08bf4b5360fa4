namespace Parley.Protocol.Frames;

/// <summary>
/// HISTORY_PAGE (0x95), server to client: the answer to HISTORY. <see cref="Before"/> repeats the request's; the
/// entries are in increasing sequence order, the newest ones below <see cref="Before"/>. Fewer than asked (or none)
/// means the start of the history was reached, or the page hit the frame size limit: ask again below the first.
/// Entries are history: the client shows them but does not ACK them (its cursor is about new messages).
/// </summary>
public sealed record HistoryPageFrame(ulong Before, IReadOnlyList<DeliverFrame> Entries) : Frame
{
    public override FrameType Type => FrameType.HistoryPage;

    public override int PayloadLength()
    {
        var size = 8 + 2;
        foreach (var entry in Entries)
        {
            size += entry.PayloadLength();
        }

        return size;
    }

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU64(Before);
        writer.WriteU16(checked((ushort)Entries.Count));
        foreach (var entry in Entries)
        {
            entry.WritePayload(ref writer);
        }
    }

    internal static HistoryPageFrame Read(ref PayloadReader reader, ProtocolLimits limits)
    {
        var before = reader.ReadU64();
        int count = reader.ReadU16();
        // Each entry is at least 44 bytes: never reserve more than the frame can hold.
        var entries = new List<DeliverFrame>(Math.Min(count, reader.Remaining / 44));
        for (var i = 0; i < count; i++)
        {
            entries.Add(DeliverFrame.Read(ref reader, limits));
        }

        return new HistoryPageFrame(before, entries);
    }

    public bool Equals(HistoryPageFrame? other) => other is not null && Before == other.Before && Entries.SequenceEqual(other.Entries);

    public override int GetHashCode() => HashCode.Combine(Before, Entries.Count);
}
