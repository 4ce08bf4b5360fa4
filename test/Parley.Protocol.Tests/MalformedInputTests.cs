using System.Buffers;
using System.Buffers.Binary;
using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>Every way a frame can be broken maps to one error code (security.md 5, 8).</summary>
public sealed class MalformedInputTests
{
    private static readonly ProtocolLimits Limits = ProtocolLimits.Default;

    private const string Magic = "50 52 4C 59";

    [Trait("Security", "5")]
    [Fact]
    public void TryRead_LengthZero_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Hex.Parse("00 00 00 00"));

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x06)]
    [InlineData(0x7F)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void TryRead_UnknownType_ThrowsUnknownFrameType(byte type) =>
        AssertRejected(ErrorCode.UnknownFrameType, Raw(type, []));

    [Fact]
    public void TryRead_SendWithTruncatedId_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Raw(0x10, Hex.Parse("00 11 22 33 44 55 66 77 88 99")));

    [Fact]
    public void TryRead_StringLengthBeyondFrameEnd_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Raw(0x01, Hex.Parse($"{Magic} 00 01 00 01 00 09 70 61 72 6C 65 79 2F 31")));

    [Fact]
    public void TryRead_TextLengthBeyondFrameEnd_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Raw(0x10, Hex.Parse("00112233445566778899AABBCCDDEEFF 00 03 62 6F 62 00 00 00 07 68 C3 A9 6C 6C 6F")));

    [Fact]
    public void TryRead_PingWithoutNonce_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Raw(0x14, Hex.Parse("00 00 00 00 00 00 00")));

    [Fact]
    public void TryRead_HelloWithTrailingByte_ThrowsMalformed()
    {
        var hello = FrameCodec.Encode(new HelloFrame(1, 1, "x"));

        AssertRejected(ErrorCode.Malformed, Raw(hello[4], [.. hello.AsSpan(5), 0x00]));
    }

    [Theory]
    [InlineData(0x05)]
    [InlineData(0x13)]
    public void TryRead_EmptyFrameWithPayload_ThrowsMalformed(byte type) =>
        AssertRejected(ErrorCode.Malformed, Raw(type, [0x00]));

    [Trait("Security", "8")]
    [Theory]
    [InlineData("C0 80")] // overlong encoding of U+0000
    [InlineData("ED A0 80")] // encoded surrogate U+D800
    [InlineData("FF")]
    [InlineData("E2 82")] // truncated sequence inside the field
    public void TryRead_InvalidUtf8InString_ThrowsBadEncoding(string bad)
    {
        var bytes = Hex.Parse(bad);
        var payload = Hex.Parse($"{Magic} 00 01 00 01").Concat(U16((ushort)bytes.Length)).Concat(bytes).ToArray();

        AssertRejected(ErrorCode.BadEncoding, Raw(0x01, payload));
    }

    [Trait("Security", "8")]
    [Theory]
    [InlineData("C0 80")]
    [InlineData("ED A0 80")]
    public void TryRead_InvalidUtf8InText_ThrowsBadEncoding(string bad)
    {
        var bytes = Hex.Parse(bad);
        var payload = Hex.Parse("00112233445566778899AABBCCDDEEFF 00 03 62 6F 62").Concat(U32((uint)bytes.Length)).Concat(bytes).ToArray();

        AssertRejected(ErrorCode.BadEncoding, Raw(0x10, payload));
    }

    [Fact]
    public void TryRead_SendTextOneByteOverMaxTextBytes_ThrowsTextTooLong()
    {
        var frame = new SendFrame(MessageId.NewRandom(), "bob", new string('a', Limits.MaxTextBytes + 1));

        AssertRejected(ErrorCode.TextTooLong, FrameCodec.Encode(frame));
    }

    [Fact]
    public void TryRead_DeliverTextOverLoweredLimit_ThrowsTextTooLong()
    {
        var limits = new ProtocolLimits { MaxTextBytes = 16 };
        var frame = new DeliverFrame(1, MessageId.NewRandom(), "alice", "bob", 0, "0123456789abcdefg");
        var buffer = new ReadOnlySequence<byte>(FrameCodec.Encode(frame));

        var ex = Assert.Throws<ProtocolException>(() => FrameCodec.TryRead(ref buffer, limits.MaxFrameLength, limits, out _));

        Assert.Equal(ErrorCode.TextTooLong, ex.Code);
    }

    [Fact]
    public void TryRead_HelloWithWrongMagic_ThrowsUnsupportedVersion() =>
        AssertRejected(ErrorCode.UnsupportedVersion, Raw(0x01, Hex.Parse("47 45 54 20 00 01 00 01 00 00")));

    [Fact]
    public void TryRead_UserNameOver256Bytes_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, FrameCodec.Encode(new CredentialsFrame(FrameType.Login, new string('a', 257), "pw", "phone")));

    [Fact]
    public void TryRead_PasswordOver1024Bytes_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, FrameCodec.Encode(new CredentialsFrame(FrameType.Login, "alice", new string('p', 1025), "phone")));

    [Fact]
    public void TryRead_ResumeTokenOver64Bytes_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, FrameCodec.Encode(new ResumeFrame("alice", new byte[65], "phone")));

    [Fact]
    public void TryRead_PresenceFlagTwo_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Raw(0x94, Hex.Parse("00 03 62 6F 62 02")));

    [Fact]
    public void TryRead_WatchFlagTwo_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Raw(0x18, Hex.Parse("02 00 01 00 03 62 6F 62")));

    [Fact]
    public void TryRead_WatchOverMaxUsers_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Raw(0x18, Hex.Parse("01 01 01")));

    [Fact]
    public void TryRead_WatchCountBeyondEntries_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Raw(0x18, Hex.Parse("01 00 02 00 01 61")));

    [Fact]
    public void TryRead_WhoListCountBeyondEntries_ThrowsMalformed() =>
        AssertRejected(ErrorCode.Malformed, Raw(0x93, Hex.Parse("FF FF 00 01 61 00 01")));

    [Fact]
    public void TryRead_IncompleteFrame_ReturnsFalseAndConsumesNothing()
    {
        var bytes = FrameCodec.Encode(SampleFrames.ByType[FrameType.Deliver]);

        for (var length = 0; length < bytes.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, length);
            var start = buffer.Start;

            var read = FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out var frame);

            Assert.False(read);
            Assert.Null(frame);
            Assert.Equal(length, buffer.Length);
            Assert.Equal(start, buffer.Start);
        }
    }

    [Fact]
    public void TryRead_TwoFramesInBuffer_ConsumesOnlyTheFirst()
    {
        var first = FrameCodec.Encode(new SequenceFrame(FrameType.Ping, 1));
        var second = FrameCodec.Encode(new SequenceFrame(FrameType.Pong, 1));
        var buffer = new ReadOnlySequence<byte>([.. first, .. second.AsSpan(0, 6)]);

        var read = FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out var frame);

        Assert.True(read);
        Assert.Equal<Frame?>(new SequenceFrame(FrameType.Ping, 1), frame);
        Assert.Equal(6, buffer.Length);
        Assert.False(FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out _));
        Assert.Equal(6, buffer.Length);
    }

    private static void AssertRejected(ErrorCode expected, byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);

        var ex = Assert.Throws<ProtocolException>(() => FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out _));

        Assert.Equal(expected, ex.Code);
    }

    private static byte[] Raw(byte type, byte[] payload)
    {
        var bytes = new byte[4 + 1 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(1 + payload.Length));
        bytes[4] = type;
        payload.CopyTo(bytes, 5);
        return bytes;
    }

    private static byte[] U16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
