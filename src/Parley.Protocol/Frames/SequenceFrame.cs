namespace Parley.Protocol.Frames;

/// <summary>
/// Frames with one u64 field: ACK (0x11, "I have everything up to this sequence"), SYNC (0x12, "send me everything
/// after this sequence, then keep pushing"), SYNCED (0x92, "caught up to this sequence"), PING (0x14) and PONG (0x15)
/// with a nonce.
/// </summary>
public sealed record SequenceFrame(FrameType Kind, ulong Value) : Frame
{
    public override FrameType Type => Kind;

    public override int PayloadLength() => 8;

    public override void WritePayload(ref PayloadWriter writer) => writer.WriteU64(Value);

    internal static SequenceFrame Read(FrameType kind, ref PayloadReader reader) => new(kind, reader.ReadU64());
}
