namespace Parley.Protocol.Frames;

/// <summary>
/// DELIVER (0x91), server to client: one entry of the user's log, a message to or from them. Sequence numbers of
/// one user's log strictly increase; a device acknowledges with ACK up to the highest it has shown.
/// </summary>
public sealed record DeliverFrame(ulong Sequence, MessageId Id, string From, string To, long Time, string Text) : Frame
{
    public override FrameType Type => FrameType.Deliver;

    public override int PayloadLength() =>
        8 + MessageId.Size + PayloadSize.String(From) + PayloadSize.String(To) + 8 + PayloadSize.Text(Text);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU64(Sequence);
        writer.WriteMessageId(Id);
        writer.WriteString(From);
        writer.WriteString(To);
        writer.WriteI64(Time);
        writer.WriteText(Text);
    }

    internal static DeliverFrame Read(ref PayloadReader reader, ProtocolLimits limits) =>
        new(reader.ReadU64(), reader.ReadMessageId(), reader.ReadString(256), reader.ReadString(256), reader.ReadI64(), reader.ReadText(limits.MaxTextBytes));
}
