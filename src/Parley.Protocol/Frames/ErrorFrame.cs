namespace Parley.Protocol.Frames;

/// <summary>
/// ERROR (0xE0), server to client: what went wrong, the message it concerns (all zero when none) and one line of
/// text for people. Codes that close the connection are listed in docs/protocol.md.
/// </summary>
public sealed record ErrorFrame(ErrorCode Code, MessageId Id, string Message) : Frame
{
    public override FrameType Type => FrameType.Error;

    public override int PayloadLength() => 2 + MessageId.Size + PayloadSize.String(Message);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU16((ushort)Code);
        writer.WriteMessageId(Id);
        writer.WriteString(Message);
    }

    internal static ErrorFrame Read(ref PayloadReader reader) =>
        new((ErrorCode)reader.ReadU16(), reader.ReadMessageId(), reader.ReadString());
}
