namespace Parley.Protocol.Frames;

/// <summary>
/// Frames of a file id and an offset: DOWNLOAD (0x22, client to server: "send this file from this byte"),
/// UPLOAD_READY (0xA0: "I have this many bytes of your upload; go on from there") and FILE_END (0xA4: "that was the
/// last chunk; the file is this long").
/// </summary>
public sealed record FileOffsetFrame(FrameType Kind, MessageId FileId, ulong Offset) : Frame
{
    public override FrameType Type => Kind;

    public override int PayloadLength() => MessageId.Size + 8;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(FileId);
        writer.WriteU64(Offset);
    }

    internal static FileOffsetFrame Read(FrameType kind, ref PayloadReader reader) => new(kind, reader.ReadMessageId(), reader.ReadU64());
}
