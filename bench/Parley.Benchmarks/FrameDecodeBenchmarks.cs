using System.Buffers;
using BenchmarkDotNet.Attributes;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Benchmarks;

/// <summary>
/// FrameCodec.TryRead of one whole frame from a single-segment ReadOnlySequence, the common case of a read loop
/// whose pipe buffer holds the frame. The frame objects and strings it allocates are part of the cost, so the
/// decoded frame is returned rather than dropped.
/// </summary>
[Config(typeof(BenchConfig))]
public class FrameDecodeBenchmarks
{
    private ReadOnlySequence<byte> _send;
    private ReadOnlySequence<byte> _deliver;

    [GlobalSetup]
    public void Setup()
    {
        _send = new ReadOnlySequence<byte>(FrameCodec.Encode(SampleFrames.Send));
        _deliver = new ReadOnlySequence<byte>(FrameCodec.Encode(SampleFrames.Deliver));
    }

    [Benchmark]
    public Frame? DecodeSend() => Read(_send);

    [Benchmark]
    public Frame? DecodeDeliver() => Read(_deliver);

    private static Frame? Read(ReadOnlySequence<byte> bytes)
    {
        // TryRead advances its argument; the copy keeps the field intact for the next call.
        var buffer = bytes;
        if (!FrameCodec.TryRead(ref buffer, ProtocolLimits.Default.MaxFrameLength, ProtocolLimits.Default, out var frame) || !buffer.IsEmpty)
        {
            throw new InvalidOperationException("the sample frame did not decode as one whole frame");
        }

        return frame;
    }
}
