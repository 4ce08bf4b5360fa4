using System.Buffers;
using System.Buffers.Binary;
using CsCheck;
using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>
/// The decoder's contract (security.md 7): whatever bytes arrive, it returns frames, returns false, or throws
/// <see cref="ProtocolException"/>; no other exception escapes.
/// </summary>
public sealed class ArbitraryInputPropertyTests
{
    private static readonly ProtocolLimits Limits = ProtocolLimits.Default;

    private static readonly byte[] KnownTypes = Enum.GetValues<FrameType>().Select(t => (byte)t).ToArray();

    [Trait("Security", "7")]
    [Fact]
    public void Decoder_RandomBytes_OnlyProtocolException()
    {
        Gen.Byte.Array[0, 300].Sample(bytes => Assert.True(DecodeAll(bytes) >= 0), iter: 5000);
    }

    [Trait("Security", "7")]
    [Fact]
    public void Decoder_WellFramedRandomPayload_OnlyProtocolException()
    {
        // A correct length prefix and a known type byte get random payloads past the framing into the field readers.
        var gen = Gen.Select(Gen.OneOf(Gen.OneOf(KnownTypes), Gen.Byte), Gen.Byte.Array[0, 300]);

        gen.Sample((type, payload) =>
        {
            var bytes = new byte[5 + payload.Length];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(1 + payload.Length));
            bytes[4] = type;
            payload.CopyTo(bytes, 5);

            Assert.True(DecodeAll(bytes) >= 0);
        }, iter: 5000);
    }

    [Trait("Security", "7")]
    [Fact]
    public void Decoder_MutatedValidFrames_OnlyProtocolException()
    {
        // Valid frames with a few bytes overwritten: lengths and counts that are almost right.
        var gen =
            from frame in FrameGen.Any
            let bytes = FrameCodec.Encode(frame)
            from edits in Gen.Select(Gen.Int[0, bytes.Length - 1], Gen.Byte).Array[1, 4]
            select (bytes, edits);

        gen.Sample((bytes, edits) =>
        {
            var mutated = (byte[])bytes.Clone();
            foreach (var (index, value) in edits)
            {
                mutated[index] = value;
            }

            Assert.True(DecodeAll(mutated) >= 0);
        }, iter: 5000);
    }

    /// <summary>Decodes frames until the codec wants more bytes or rejects the input; returns how many it decoded.</summary>
    private static int DecodeAll(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        var count = 0;
        try
        {
            while (FrameCodec.TryRead(ref buffer, Limits.MaxFrameLength, Limits, out var frame))
            {
                Assert.NotNull(frame);
                count++;
            }
        }
        catch (ProtocolException ex)
        {
            Assert.NotEqual(ErrorCode.None, ex.Code);
        }

        return count;
    }
}
