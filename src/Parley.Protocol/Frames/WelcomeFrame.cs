namespace Parley.Protocol.Frames;

/// <summary>WELCOME (0x81), server to client: the version chosen for this connection and the server's name.</summary>
public sealed record WelcomeFrame(ushort Version, string Server) : Frame
{
    public override FrameType Type => FrameType.Welcome;

    public override int PayloadLength() => 2 + PayloadSize.String(Server);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU16(Version);
        writer.WriteString(Server);
    }

    internal static WelcomeFrame Read(ref PayloadReader reader) => new(reader.ReadU16(), reader.ReadString(256));
}
