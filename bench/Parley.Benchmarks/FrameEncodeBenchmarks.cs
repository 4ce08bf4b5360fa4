using System.Buffers;
using BenchmarkDotNet.Attributes;
using Parley.Protocol;

namespace Parley.Benchmarks;

/// <summary>
/// FrameCodec.Write into one ArrayBufferWriter reused across calls, as the server's write loop reuses its
/// PipeWriter: what is measured is sizing the payload and writing it in place, not buffer growth.
/// </summary>
[Config(typeof(BenchConfig))]
public class FrameEncodeBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(4096);

    [Benchmark]
    public int EncodeSend()
    {
        _output.ResetWrittenCount();
        return FrameCodec.Write(_output, SampleFrames.Send);
    }

    [Benchmark]
    public int EncodeDeliver()
    {
        _output.ResetWrittenCount();
        return FrameCodec.Write(_output, SampleFrames.Deliver);
    }
}
