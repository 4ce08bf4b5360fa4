namespace Parley.Protocol.Frames;

/// <summary>
/// PEER_MESSAGE (0x41), on a direct link: a message to the user at the other end, with the sender's 128-bit id (the
/// same id goes to the server if this path fails) and the sender's clock (Unix ms). The sender is the link's
/// authenticated peer; no field can claim another.
/// </summary>
public sealed record PeerMessageFrame(MessageId Id, long Time, string Text) : Frame
{
    public override FrameType Type => FrameType.PeerMessage;

    public override int PayloadLength() => MessageId.Size + 8 + PayloadSize.Text(Text);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(Id);
        writer.WriteI64(Time);
        writer.WriteText(Text);
    }

    internal static PeerMessageFrame Read(ref PayloadReader reader, ProtocolLimits limits) =>
        new(reader.ReadMessageId(), reader.ReadI64(), reader.ReadText(limits.MaxTextBytes));
}
