namespace Parley.Protocol.Frames;

/// <summary>
/// RECEIPT (0x96), server to client: a device of <see cref="Peer"/> has received every message this user sent to
/// <see cref="Peer"/> up to <see cref="UpTo"/>, a sequence in this user's own log (the one SEND_OK returned). One
/// watermark per conversation suffices because the server appends a sender's messages to a peer in the same order to
/// both logs, and a device acknowledges its log in order. Sent live, to the sender's devices online at that moment.
/// </summary>
public sealed record ReceiptFrame(string Peer, ulong UpTo) : Frame
{
    public override FrameType Type => FrameType.Receipt;

    public override int PayloadLength() => PayloadSize.String(Peer) + 8;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(Peer);
        writer.WriteU64(UpTo);
    }

    internal static ReceiptFrame Read(ref PayloadReader reader) => new(reader.ReadString(256), reader.ReadU64());
}
