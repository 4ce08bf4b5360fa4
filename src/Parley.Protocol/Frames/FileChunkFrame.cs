namespace Parley.Protocol.Frames;

/// <summary>
/// UPLOAD_CHUNK (0x21, client to server) and FILE_CHUNK (0xA3, server to client): bytes of a file at an offset. The
/// offset must be exactly where the previous chunk ended, so a receiver never has a hole to track. At most
/// <see cref="FileTransferLimits.MaxChunkBytes"/> bytes of data.
/// </summary>
public sealed record FileChunkFrame(FrameType Kind, MessageId FileId, ulong Offset, ReadOnlyMemory<byte> Data) : Frame
{
    public override FrameType Type => Kind;

    public override int PayloadLength() => MessageId.Size + 8 + 4 + Data.Length;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(FileId);
        writer.WriteU64(Offset);
        writer.WriteData(Data.Span);
    }

    internal static FileChunkFrame Read(FrameType kind, ref PayloadReader reader) =>
        new(kind, reader.ReadMessageId(), reader.ReadU64(), reader.ReadData(FileTransferLimits.MaxChunkBytes));

    /// <summary>Value equality on the data bytes, not the buffer reference.</summary>
    public bool Equals(FileChunkFrame? other) =>
        other is not null && Kind == other.Kind && FileId == other.FileId && Offset == other.Offset && Data.Span.SequenceEqual(other.Data.Span);

    public override int GetHashCode() => HashCode.Combine(Kind, FileId, Offset, Data.Length);

    public override string ToString() => $"{Kind} {{ FileId = {FileId}, Offset = {Offset}, Length = {Data.Length} }}";
}
