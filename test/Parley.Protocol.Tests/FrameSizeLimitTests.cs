using System.Buffers;
using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>security.md 5: a frame's declared length is checked against the limit from the 4 header bytes alone.</summary>
public sealed class FrameSizeLimitTests
{
    private static readonly ProtocolLimits Limits = ProtocolLimits.Default;

    [Trait("Security", "5")]
    [Theory]
    [InlineData(0x80000000u)]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(0x00100002u)] // 1 MiB + 2: the first length over the limit (L counts the type byte).
    public void TryRead_HugeDeclaredLengthWithHeaderOnly_ThrowsFrameTooLarge(uint declared)
    {
        var buffer = new ReadOnlySequence<byte>(Header(declared));

        var ex = Assert.Throws<ProtocolException>(() => FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out _));

        Assert.Equal(ErrorCode.FrameTooLarge, ex.Code);
    }

    [Trait("Security", "5")]
    [Fact]
    public void TryRead_DeclaredLengthAtLimitWithHeaderOnly_WaitsForBody()
    {
        var buffer = new ReadOnlySequence<byte>(Header((uint)Limits.MaxFrameLength));

        var read = FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out var frame);

        Assert.False(read);
        Assert.Null(frame);
        Assert.Equal(4, buffer.Length);
    }

    [Trait("Security", "5")]
    [Theory]
    [InlineData(0x80000000u)]
    [InlineData(0xFFFFFFFFu)]
    public void TryRead_HugeDeclaredLength_AllocatesLessThan64KiB(uint declared)
    {
        var header = Header(declared);
        RejectOnce(header); // warm up: JIT and first-throw costs are not the decoder's

        var before = GC.GetAllocatedBytesForCurrentThread();
        var code = RejectOnce(header);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ErrorCode.FrameTooLarge, code);
        Assert.True(allocated < 64 * 1024, $"rejecting the header allocated {allocated} bytes");
    }

    [Trait("Security", "5")]
    [Fact]
    public void TryRead_HeaderSplitAcrossSegments_ThrowsFrameTooLarge()
    {
        var header = Header(0x80000000u);
        var buffer = ChunkedSequence.From([header.AsMemory(0, 1), header.AsMemory(1, 2), header.AsMemory(3, 1)]);

        var ex = Assert.Throws<ProtocolException>(() => FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out _));

        Assert.Equal(ErrorCode.FrameTooLarge, ex.Code);
    }

    [Trait("Security", "5")]
    [Fact]
    public void TryRead_FrameOverSmallMaxFrameLength_ThrowsFrameTooLarge()
    {
        var bytes = FrameCodec.Encode(new SendFrame(MessageId.NewRandom(), "bob", new string('a', 100)));
        var buffer = new ReadOnlySequence<byte>(bytes);

        var ex = Assert.Throws<ProtocolException>(() => FrameCodec.TryRead(ref buffer, 64, Limits, out _));

        Assert.Equal(ErrorCode.FrameTooLarge, ex.Code);
    }

    [Trait("Security", "5")]
    [Fact]
    public void TryRead_FrameExactlyAtSmallMaxFrameLength_Decodes()
    {
        var frame = new SequenceFrame(FrameType.Ping, 1); // L = 1 + 8
        var buffer = new ReadOnlySequence<byte>(FrameCodec.Encode(frame));

        var read = FrameCodec.TryRead(ref buffer, 9, Limits, out var decoded);

        Assert.True(read);
        Assert.Equal<Frame?>(frame, decoded);
    }

    [Trait("Security", "5")]
    [Fact]
    public void TryRead_LoginOverPreAuthLimitWithHeaderOnly_ThrowsFrameTooLarge()
    {
        var login = FrameCodec.Encode(new CredentialsFrame(FrameType.Login, "alice", new string('p', 5000), "phone"));
        var buffer = new ReadOnlySequence<byte>(login.AsMemory(0, FrameCodec.LengthPrefixSize));

        var ex = Assert.Throws<ProtocolException>(() => FrameCodec.TryRead(ref buffer, Limits.MaxPreAuthFrameLength, Limits, out _));

        Assert.Equal(ErrorCode.FrameTooLarge, ex.Code);
    }

    [Trait("Security", "5")]
    [Fact]
    public void Write_FrameOverMaxFrameLength_ThrowsFrameTooLarge()
    {
        var output = new ArrayBufferWriter<byte>();
        var frame = new SendFrame(MessageId.NewRandom(), "bob", new string('a', 100));

        var ex = Assert.Throws<ProtocolException>(() => FrameCodec.Write(output, frame, 64));

        Assert.Equal(ErrorCode.FrameTooLarge, ex.Code);
        Assert.Equal(0, output.WrittenCount);
    }

    private static byte[] Header(uint declared)
    {
        var header = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, declared);
        return header;
    }

    private static ErrorCode RejectOnce(byte[] header)
    {
        var buffer = new ReadOnlySequence<byte>(header);
        try
        {
            FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out _);
            return ErrorCode.None;
        }
        catch (ProtocolException ex)
        {
            return ex.Code;
        }
    }
}
