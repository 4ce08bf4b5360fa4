namespace Parley.Protocol.Frames;

/// <summary>
/// PEER_HELLO_ACK (0xC0), answer to PEER_HELLO from the accepting side: its (User, Device). Only after it has
/// arrived, and matches the directory entry that was dialled, is the link up (security.md V3: TLS 1.3 completes on
/// the client before the server has checked the client's certificate).
/// </summary>
public sealed record PeerHelloAckFrame(string User, string Device) : Frame
{
    public override FrameType Type => FrameType.PeerHelloAck;

    public override int PayloadLength() => PayloadSize.String(User) + PayloadSize.String(Device);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(User);
        writer.WriteString(Device);
    }

    internal static PeerHelloAckFrame Read(ref PayloadReader reader) => new(reader.ReadString(256), reader.ReadString(256));
}
