using System.Buffers;
using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>decode(encode(x)) == x for one sample of every frame type.</summary>
public sealed class RoundTripTests
{
    [Fact]
    public void Samples_EveryFrameType_HasOne()
    {
        var missing = Enum.GetValues<FrameType>().Where(t => !SampleFrames.ByType.ContainsKey(t)).ToList();

        Assert.Empty(missing);
    }

    [Theory]
    [MemberData(nameof(SampleFrames.Types), MemberType = typeof(SampleFrames))]
    public void Frame_EncodedThenDecoded_EqualsOriginal(FrameType type)
    {
        var original = SampleFrames.ByType[type];
        var bytes = FrameCodec.Encode(original);
        var buffer = new ReadOnlySequence<byte>(bytes);

        var read = FrameCodec.TryRead(ref buffer, ProtocolLimits.Default.MaxFrameLength, ProtocolLimits.Default, out var decoded);

        Assert.True(read);
        Assert.Equal(0, buffer.Length);
        Assert.Equal(type, decoded!.Type);
        Assert.Equal(original, decoded);
    }

    [Theory]
    [MemberData(nameof(SampleFrames.Types), MemberType = typeof(SampleFrames))]
    public void Frame_Encoded_LengthPrefixCountsTypeAndPayload(FrameType type)
    {
        var frame = SampleFrames.ByType[type];

        var bytes = FrameCodec.Encode(frame);

        Assert.Equal(FrameCodec.LengthPrefixSize + 1 + frame.PayloadLength(), bytes.Length);
        Assert.Equal((uint)(bytes.Length - 4), System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes));
        Assert.Equal((byte)type, bytes[4]);
    }

    [Theory]
    [MemberData(nameof(SampleFrames.Types), MemberType = typeof(SampleFrames))]
    public void Frame_DecodedFromBodyOnly_EqualsOriginal(FrameType type)
    {
        var original = SampleFrames.ByType[type];
        var bytes = FrameCodec.Encode(original);

        var decoded = FrameCodec.Decode(bytes.AsSpan(FrameCodec.LengthPrefixSize), ProtocolLimits.Default);

        Assert.Equal(original, decoded);
    }

    [Fact]
    public void AuthOk_DifferentToken_NotEqual()
    {
        var a = new AuthOkFrame("alice", "phone", [1, 2, 3], 5);
        var b = new AuthOkFrame("alice", "phone", [1, 2, 4], 5);

        Assert.NotEqual(a, b);
        Assert.Equal(a, new AuthOkFrame("alice", "phone", [1, 2, 3], 5));
    }

    [Fact]
    public void Resume_DifferentToken_NotEqual()
    {
        var a = new ResumeFrame("alice", [1, 2, 3], "phone");
        var b = new ResumeFrame("alice", [1, 2, 3, 4], "phone");

        Assert.NotEqual(a, b);
        Assert.Equal(a, new ResumeFrame("alice", [1, 2, 3], "phone"));
    }

    [Fact]
    public void WhoList_Empty_RoundTrips()
    {
        var original = new WhoListFrame([]);

        var decoded = FrameCodec.Decode(FrameCodec.Encode(original).AsSpan(4), ProtocolLimits.Default);

        Assert.Equal<Frame>(original, decoded);
    }

    [Fact]
    public void Send_TextExactlyAtLimit_RoundTrips()
    {
        var original = new SendFrame(MessageId.NewRandom(), "bob", new string('x', ProtocolLimits.Default.MaxTextBytes));

        var decoded = FrameCodec.Decode(FrameCodec.Encode(original).AsSpan(4), ProtocolLimits.Default);

        Assert.Equal<Frame>(original, decoded);
    }

    [Fact]
    public void Presence_Offline_RoundTrips()
    {
        var original = new PresenceFrame("bob", Online: false);

        var decoded = FrameCodec.Decode(FrameCodec.Encode(original).AsSpan(4), ProtocolLimits.Default);

        Assert.Equal<Frame>(original, decoded);
    }

    [Fact]
    public void Send_TextWithBomAndNul_KeptAsIs()
    {
        // Strict UTF-8 still allows U+FEFF and U+0000; a leading byte order mark is not stripped.
        var original = new SendFrame(MessageId.NewRandom(), "bob", "\uFEFFa\0b");

        var decoded = FrameCodec.Decode(FrameCodec.Encode(original).AsSpan(4), ProtocolLimits.Default);

        Assert.Equal("\uFEFFa\0b", Assert.IsType<SendFrame>(decoded).Text);
    }
}
