using System.Buffers;

namespace Parley.Protocol.Frames;

/// <summary>
/// UPLOAD_CHUNK (0x21, client to server) and FILE_CHUNK (0xA3, server to client): bytes of a file at an offset. The
/// offset must be exactly where the previous chunk ended, so a receiver never has a hole to track. At most
/// <see cref="FileTransferLimits.MaxChunkBytes"/> bytes of data.
/// </summary>
public sealed record FileChunkFrame(FrameType Kind, MessageId FileId, ulong Offset, ReadOnlyMemory<byte> Data) : Frame
{
    // The buffer Data lies in when it was rented from ArrayPool<byte>.Shared (a chunk decoded by FrameCodec.TryRead).
    // A copy made with `with` shares it: only one of the two may return it.
    private byte[]? _pooled;

    public override FrameType Type => Kind;

    /// <summary>
    /// Gives the data's buffer back to the shared pool when it came from there (a received chunk does); otherwise does
    /// nothing. Call it once the data has been written and hashed, and read the data no more. A chunk never returned
    /// is only collected, as any array: returning is what saves a 256 KiB allocation a chunk.
    /// </summary>
    public void ReturnBuffer()
    {
        if (Interlocked.Exchange(ref _pooled, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override int PayloadLength() => MessageId.Size + 8 + 4 + Data.Length;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(FileId);
        writer.WriteU64(Offset);
        writer.WriteData(Data.Span);
    }

    /// <summary>
    /// A chunk whose data is the first <paramref name="length"/> bytes of <paramref name="rented"/>, a buffer from
    /// <see cref="ArrayPool{T}.Shared"/> the frame then owns: whoever has written it out calls <see cref="ReturnBuffer"/>.
    /// </summary>
    public static FileChunkFrame WithPooledData(FrameType kind, MessageId fileId, ulong offset, byte[] rented, int length)
    {
        ArgumentNullException.ThrowIfNull(rented);
        return new FileChunkFrame(kind, fileId, offset, rented.AsMemory(0, length)) { _pooled = rented };
    }

    internal static FileChunkFrame Read(FrameType kind, ref PayloadReader reader) =>
        new(kind, reader.ReadMessageId(), reader.ReadU64(), reader.ReadData(FileTransferLimits.MaxChunkBytes));

    /// <summary>
    /// Decodes a chunk whose whole body (type byte first) is the first <paramref name="length"/> bytes of
    /// <paramref name="rented"/>, a buffer from <see cref="ArrayPool{T}.Shared"/>: the data stays in it and the frame
    /// owns it (<see cref="ReturnBuffer"/>), so a chunk is copied once on its way in instead of twice.
    /// </summary>
    internal static FileChunkFrame ReadPooled(byte[] rented, int length)
    {
        var kind = (FrameType)rented[0];
        var reader = new PayloadReader(rented.AsSpan(1, length - 1));
        var fileId = reader.ReadMessageId();
        var offset = reader.ReadU64();
        var dataStart = length - reader.Remaining + 4; // the type byte and the fields so far, then the u32 length
        var dataLength = reader.SkipData(FileTransferLimits.MaxChunkBytes);
        reader.EnsureEnd();
        return new FileChunkFrame(kind, fileId, offset, rented.AsMemory(dataStart, dataLength)) { _pooled = rented };
    }

    /// <summary>Value equality on the data bytes, not the buffer reference.</summary>
    public bool Equals(FileChunkFrame? other) =>
        other is not null && Kind == other.Kind && FileId == other.FileId && Offset == other.Offset && Data.Span.SequenceEqual(other.Data.Span);

    public override int GetHashCode() => HashCode.Combine(Kind, FileId, Offset, Data.Length);

    public override string ToString() => $"{Kind} {{ FileId = {FileId}, Offset = {Offset}, Length = {Data.Length} }}";
}
