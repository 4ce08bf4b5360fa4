namespace Parley.Protocol.Frames;

/// <summary>LOOKUP (0x32), client to server, logged in only: the live directory entries of one user. Answered with PEERS.</summary>
public sealed record LookupFrame(string User) : Frame
{
    public override FrameType Type => FrameType.Lookup;

    public override int PayloadLength() => PayloadSize.String(User);

    public override void WritePayload(ref PayloadWriter writer) => writer.WriteString(User);

    internal static LookupFrame Read(ref PayloadReader reader) => new(reader.ReadString(256));
}
