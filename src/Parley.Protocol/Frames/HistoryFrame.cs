namespace Parley.Protocol.Frames;

/// <summary>
/// HISTORY (0x16), client to server: asks for up to <see cref="Max"/> entries of the user's log with a sequence
/// below <see cref="Before"/> (0: from the end), optionally only the conversation with <see cref="Peer"/> (empty: all).
/// Answered by one HISTORY_PAGE. This is how a client scrolls back beyond what it keeps.
/// </summary>
public sealed record HistoryFrame(ulong Before, ushort Max, string Peer) : Frame
{
    /// <summary>The most entries one HISTORY_PAGE carries, whatever a client asks.</summary>
    public const int MaxEntries = 500;

    public override FrameType Type => FrameType.History;

    public override int PayloadLength() => 8 + 2 + PayloadSize.String(Peer);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU64(Before);
        writer.WriteU16(Max);
        writer.WriteString(Peer);
    }

    internal static HistoryFrame Read(ref PayloadReader reader) => new(reader.ReadU64(), reader.ReadU16(), reader.ReadString(256));
}
