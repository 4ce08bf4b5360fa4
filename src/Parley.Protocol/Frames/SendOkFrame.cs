namespace Parley.Protocol.Frames;

/// <summary>
/// SEND_OK (0x90), server to client: the message with this id is durably stored. Sequence is its place in the
/// sender's own log (where the sender's copy lives); Time is the server's timestamp, Unix milliseconds.
/// </summary>
public sealed record SendOkFrame(MessageId Id, ulong Sequence, long Time) : Frame
{
    public override FrameType Type => FrameType.SendOk;

    public override int PayloadLength() => MessageId.Size + 8 + 8;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(Id);
        writer.WriteU64(Sequence);
        writer.WriteI64(Time);
    }

    internal static SendOkFrame Read(ref PayloadReader reader) => new(reader.ReadMessageId(), reader.ReadU64(), reader.ReadI64());
}
