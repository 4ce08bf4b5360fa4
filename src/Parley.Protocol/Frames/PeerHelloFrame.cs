namespace Parley.Protocol.Frames;

/// <summary>
/// PEER_HELLO (0x40), first frame on a direct link, from the side that dialled: the magic, the protocol version, and
/// who it says it is. The accepting side believes it only after checking that the directory lists this (User,
/// Device) with the fingerprint of the certificate presented in the TLS handshake (docs/p2p.md, "Handshake").
/// </summary>
public sealed record PeerHelloFrame(ushort Version, string User, string Device) : Frame
{
    public override FrameType Type => FrameType.PeerHello;

    public override int PayloadLength() => 4 + 2 + PayloadSize.String(User) + PayloadSize.String(Device);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU32(ProtocolVersion.Magic);
        writer.WriteU16(Version);
        writer.WriteString(User);
        writer.WriteString(Device);
    }

    internal static PeerHelloFrame Read(ref PayloadReader reader)
    {
        if (reader.ReadU32() != ProtocolVersion.Magic)
        {
            ProtocolException.Throw(ErrorCode.UnsupportedVersion, "not a Parley peer: bad magic in PEER_HELLO");
        }

        return new PeerHelloFrame(reader.ReadU16(), reader.ReadString(256), reader.ReadString(256));
    }
}
