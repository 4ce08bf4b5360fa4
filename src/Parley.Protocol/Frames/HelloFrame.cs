namespace Parley.Protocol.Frames;

/// <summary>HELLO (0x01), client to server, first frame: the magic and the range of versions the client speaks.</summary>
public sealed record HelloFrame(ushort MinVersion, ushort MaxVersion, string Client) : Frame
{
    public override FrameType Type => FrameType.Hello;

    public override int PayloadLength() => 4 + 2 + 2 + PayloadSize.String(Client);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU32(ProtocolVersion.Magic);
        writer.WriteU16(MinVersion);
        writer.WriteU16(MaxVersion);
        writer.WriteString(Client);
    }

    internal static HelloFrame Read(ref PayloadReader reader)
    {
        if (reader.ReadU32() != ProtocolVersion.Magic)
        {
            ProtocolException.Throw(ErrorCode.UnsupportedVersion, "not a Parley client: bad magic in HELLO");
        }

        return new HelloFrame(reader.ReadU16(), reader.ReadU16(), reader.ReadString(256));
    }
}
