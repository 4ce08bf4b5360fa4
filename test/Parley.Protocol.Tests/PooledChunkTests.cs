using System.Buffers.Binary;
using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>
/// A file chunk split across network reads is decoded into a pooled buffer it keeps (one copy on the way in): the
/// same bytes, the same errors as any other frame, and a returned buffer that never changes a later chunk.
/// </summary>
public sealed class PooledChunkTests
{
    private static readonly ProtocolLimits Limits = ProtocolLimits.Default;
    private static readonly MessageId FileId = MessageId.Parse("00112233445566778899aabbccddeeff");

    [Fact]
    public void TryRead_LargestChunkIn4KiBReads_SameBytesAndReturnedBufferDoesNotChangeTheNextChunk()
    {
        var first = RandomBytes(FileTransferLimits.MaxChunkBytes, seed: 1);
        var second = RandomBytes(FileTransferLimits.MaxChunkBytes, seed: 2);

        var a = DecodeIn4KiBReads(new FileChunkFrame(FrameType.UploadChunk, FileId, 0, first));
        Assert.Equal(first, a.Data.ToArray());
        a.ReturnBuffer();
        a.ReturnBuffer(); // a second return is a no-op, not a second owner of the buffer

        var b = DecodeIn4KiBReads(new FileChunkFrame(FrameType.FileChunk, FileId, (ulong)first.Length, second));
        var c = DecodeIn4KiBReads(new FileChunkFrame(FrameType.UploadChunk, FileId, (ulong)first.Length * 2, first));
        Assert.Equal(FrameType.FileChunk, b.Kind);
        Assert.Equal((ulong)first.Length, b.Offset);
        Assert.Equal(second, b.Data.ToArray());
        Assert.Equal(first, c.Data.ToArray()); // b still owns its buffer: c got another one
    }

    [Fact]
    public void TryRead_SplitChunkWithDataOverTheLimit_ThrowsMalformed()
    {
        var payload = Payload(FileTransferLimits.MaxChunkBytes + 1, actualBytes: FileTransferLimits.MaxChunkBytes + 1);

        AssertRejectedInReads(ErrorCode.Malformed, Raw(FrameType.UploadChunk, payload));
    }

    [Fact]
    public void TryRead_SplitChunkWithDataLengthPastTheFrame_ThrowsMalformed()
    {
        var payload = Payload(10_000, actualBytes: 9_999);

        AssertRejectedInReads(ErrorCode.Malformed, Raw(FrameType.FileChunk, payload));
    }

    [Fact]
    public void TryRead_SplitChunkWithTrailingByte_ThrowsMalformed()
    {
        var payload = Payload(10_000, actualBytes: 10_001);

        AssertRejectedInReads(ErrorCode.Malformed, Raw(FrameType.UploadChunk, payload));
    }

    private static FileChunkFrame DecodeIn4KiBReads(FileChunkFrame frame)
    {
        var bytes = FrameCodec.Encode(frame);
        var reads = bytes.Chunk(4096).Select(c => (ReadOnlyMemory<byte>)c);
        return Assert.IsType<FileChunkFrame>(Assert.Single(StreamDecoder.DecodeChunks(reads, Limits)));
    }

    private static void AssertRejectedInReads(ErrorCode expected, byte[] bytes)
    {
        var buffer = ChunkedSequence.From([.. bytes.Chunk(4096).Select(c => (ReadOnlyMemory<byte>)c)]);
        Assert.False(buffer.IsSingleSegment);

        var ex = Assert.Throws<ProtocolException>(() => FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out _));

        Assert.Equal(expected, ex.Code);
    }

    /// <summary>file id, offset 0, a data length of <paramref name="declared"/>, then <paramref name="actualBytes"/> bytes.</summary>
    private static byte[] Payload(int declared, int actualBytes)
    {
        var payload = new byte[MessageId.Size + 8 + 4 + actualBytes];
        FileId.CopyTo(payload);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(MessageId.Size + 8), (uint)declared);
        return payload;
    }

    private static byte[] Raw(FrameType type, byte[] payload)
    {
        var bytes = new byte[4 + 1 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(1 + payload.Length));
        bytes[4] = (byte)type;
        payload.CopyTo(bytes, 5);
        return bytes;
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
