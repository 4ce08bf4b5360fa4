using CsCheck;
using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>
/// security.md 6 (the NATS FuzzParser idea): however a byte stream of valid frames is cut into network reads, the
/// decoder yields the same frames, the same as decoding the whole stream at once, and the same as were encoded.
/// </summary>
public sealed class ChunkingPropertyTests
{
    private static readonly ProtocolLimits Limits = ProtocolLimits.Default;

    private static readonly Gen<Frame[]> Frames = FrameGen.Any.Array[1, 12];

    [Trait("Security", "6")]
    [Fact]
    public void Decoder_RandomSplitPoints_SameFramesAsEncoded()
    {
        var gen =
            from frames in Frames
            let bytes = Concat(frames)
            from cuts in Gen.Int[0, bytes.Length].Array[0, 40]
            select (frames, bytes, cuts);

        gen.Sample((frames, bytes, cuts) =>
        {
            var chunked = StreamDecoder.DecodeChunks(ChunkedSequence.Split(bytes, cuts), Limits);
            var whole = StreamDecoder.DecodeWhole(bytes, Limits);

            Assert.Equal(frames, chunked);
            Assert.Equal(whole, chunked);
        }, iter: 500, print: Describe);
    }

    [Trait("Security", "6")]
    [Fact]
    public void Decoder_OneByteChunks_SameFramesAsEncoded()
    {
        Frames.Sample(frames =>
        {
            var bytes = Concat(frames);
            var reads = Enumerable.Range(0, bytes.Length).Select(i => (ReadOnlyMemory<byte>)bytes.AsMemory(i, 1));

            var chunked = StreamDecoder.DecodeChunks(reads, Limits);

            Assert.Equal(frames, chunked);
            Assert.Equal(StreamDecoder.DecodeWhole(bytes, Limits), chunked);
        }, iter: 100, print: frames => Describe((frames, Concat(frames), [])));
    }

    [Trait("Security", "6")]
    [Fact]
    public void Decoder_SmallChunkSizes_SameFramesAsEncoded()
    {
        // Fixed chunk sizes 1..7 put the cut at every offset of the length prefix and of each field.
        var gen = Gen.Select(Frames, Gen.Int[1, 7]);

        gen.Sample((frames, size) =>
        {
            var bytes = Concat(frames);
            var reads = bytes.Chunk(size).Select(c => (ReadOnlyMemory<byte>)c);

            Assert.Equal(frames, StreamDecoder.DecodeChunks(reads, Limits));
        }, iter: 100);
    }

    [Trait("Security", "6")]
    [Fact]
    public void Frame_EncodedThenDecoded_EqualsOriginal()
    {
        FrameGen.Any.Sample(frame =>
        {
            var bytes = FrameCodec.Encode(frame);

            Assert.Equal(frame, FrameCodec.Decode(bytes.AsSpan(FrameCodec.LengthPrefixSize), Limits));
        }, iter: 2000);
    }

    private static byte[] Concat(Frame[] frames) => frames.SelectMany(FrameCodec.Encode).ToArray();

    private static string Describe((Frame[] Frames, byte[] Bytes, int[] Cuts) sample) =>
        $"{sample.Frames.Length} frames [{string.Join(", ", sample.Frames.Select(f => f.Type))}], " +
        $"{sample.Bytes.Length} bytes, cuts [{string.Join(", ", sample.Cuts.Order())}]";
}
