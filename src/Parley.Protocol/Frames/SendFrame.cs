namespace Parley.Protocol.Frames;

/// <summary>
/// SEND (0x10), client to server: a message to one user. The sender is the logged-in user of the connection; no
/// sender field exists, so none can be forged (security.md 17).
/// </summary>
public sealed record SendFrame(MessageId Id, string To, string Text) : Frame
{
    public override FrameType Type => FrameType.Send;

    public override int PayloadLength() => MessageId.Size + PayloadSize.String(To) + PayloadSize.Text(Text);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(Id);
        writer.WriteString(To);
        writer.WriteText(Text);
    }

    internal static SendFrame Read(ref PayloadReader reader, ProtocolLimits limits) =>
        new(reader.ReadMessageId(), reader.ReadString(256), reader.ReadText(limits.MaxTextBytes));
}
