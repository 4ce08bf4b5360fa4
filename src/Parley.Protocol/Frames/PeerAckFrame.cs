namespace Parley.Protocol.Frames;

/// <summary>
/// PEER_ACK (0xC1), on a direct link: the message with this id has been shown (or was shown before: duplicates are
/// acknowledged too). Only this makes a direct message count as delivered.
/// </summary>
public sealed record PeerAckFrame(MessageId Id) : Frame
{
    public override FrameType Type => FrameType.PeerAck;

    public override int PayloadLength() => MessageId.Size;

    public override void WritePayload(ref PayloadWriter writer) => writer.WriteMessageId(Id);

    internal static PeerAckFrame Read(ref PayloadReader reader) => new(reader.ReadMessageId());
}
