using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>
/// Byte-exact encodings written by hand from the layout in docs/protocol.md (the same bytes appear there as the
/// worked examples): a change here is a change of the wire format.
/// </summary>
public sealed class GoldenVectorTests
{
    private static readonly HelloFrame Hello = new(1, 1, "parley/1");

    // L = 0x13 = 19: type (1) + magic (4) + min (2) + max (2) + string length (2) + "parley/1" (8).
    private const string HelloHex = """
        00 00 00 13
        01
        50 52 4C 59
        00 01
        00 01
        00 08 70 61 72 6C 65 79 2F 31
        """;

    private static readonly SendFrame Send = new(MessageId.Parse("00112233445566778899aabbccddeeff"), "bob", "héllo");

    // L = 0x20 = 32: type (1) + id (16) + to (2 + 3) + text (4 + 6: é is C3 A9).
    private const string SendHex = """
        00 00 00 20
        10
        00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF
        00 03 62 6F 62
        00 00 00 06 68 C3 A9 6C 6C 6F
        """;

    private static readonly ErrorFrame Error = new(ErrorCode.IdReused, MessageId.Parse("000102030405060708090a0b0c0d0e0f"), "id reused");

    // L = 0x1E = 30: type (1) + code (2) + id (16) + message (2 + 9).
    private const string ErrorHex = """
        00 00 00 1E
        E0
        00 15
        00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F
        00 09 69 64 20 72 65 75 73 65 64
        """;

    [Fact]
    public void Hello_Encoded_MatchesGoldenBytes() =>
        Assert.Equal(Hex.Parse(HelloHex), FrameCodec.Encode(Hello));

    [Fact]
    public void Hello_GoldenBytesDecoded_EqualsFrame() =>
        Assert.Equal<Frame>(Hello, DecodeSingle(HelloHex));

    [Fact]
    public void Send_Encoded_MatchesGoldenBytes() =>
        Assert.Equal(Hex.Parse(SendHex), FrameCodec.Encode(Send));

    [Fact]
    public void Send_GoldenBytesDecoded_EqualsFrame() =>
        Assert.Equal<Frame>(Send, DecodeSingle(SendHex));

    [Fact]
    public void Error_Encoded_MatchesGoldenBytes() =>
        Assert.Equal(Hex.Parse(ErrorHex), FrameCodec.Encode(Error));

    [Fact]
    public void Error_GoldenBytesDecoded_EqualsFrame() =>
        Assert.Equal<Frame>(Error, DecodeSingle(ErrorHex));

    [Fact]
    public void Write_GoldenFrame_ReturnsBytesWritten()
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();

        var written = FrameCodec.Write(output, Send);

        Assert.Equal(36, written);
        Assert.Equal(Hex.Parse(SendHex), output.WrittenSpan.ToArray());
    }

    private static Frame DecodeSingle(string hex)
    {
        var buffer = new System.Buffers.ReadOnlySequence<byte>(Hex.Parse(hex));
        Assert.True(FrameCodec.TryRead(ref buffer, ProtocolLimits.Default.MaxFrameLength, ProtocolLimits.Default, out var frame));
        Assert.Equal(0, buffer.Length);
        return frame!;
    }
}
