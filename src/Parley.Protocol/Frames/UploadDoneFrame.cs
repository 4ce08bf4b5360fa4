namespace Parley.Protocol.Frames;

/// <summary>
/// UPLOAD_DONE (0xA1), server to client: the whole file arrived, its SHA-256 matched, it is stored, and the offer is in
/// the recipient's log; <see cref="Sequence"/> is the sender's own copy of the offer, as in SEND_OK.
/// </summary>
public sealed record UploadDoneFrame(MessageId FileId, ulong Sequence, long Time) : Frame
{
    public override FrameType Type => FrameType.UploadDone;

    public override int PayloadLength() => MessageId.Size + 8 + 8;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(FileId);
        writer.WriteU64(Sequence);
        writer.WriteI64(Time);
    }

    internal static UploadDoneFrame Read(ref PayloadReader reader) => new(reader.ReadMessageId(), reader.ReadU64(), reader.ReadI64());
}
