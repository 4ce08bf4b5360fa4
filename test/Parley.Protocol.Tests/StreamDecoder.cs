using System.Buffers;
using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>
/// A receive loop as a connection runs it: each network read appends a chunk, the codec takes every whole frame from
/// the front, and whatever it did not consume (possibly spread over several chunks) waits for the next read.
/// </summary>
internal static class StreamDecoder
{
    public static List<Frame> DecodeChunks(IEnumerable<ReadOnlyMemory<byte>> reads, ProtocolLimits limits)
    {
        var frames = new List<Frame>();
        var pending = new List<ReadOnlyMemory<byte>>();
        foreach (var read in reads)
        {
            pending.Add(read);
            var buffer = ChunkedSequence.From(pending);
            while (FrameCodec.TryRead(ref buffer, limits.MaxFrameLength, limits, out var frame))
            {
                frames.Add(frame!);
            }

            // Keep the unconsumed bytes, still as separate segments.
            pending.Clear();
            foreach (var segment in buffer)
            {
                pending.Add(segment);
            }
        }

        if (pending.Sum(s => s.Length) != 0)
        {
            throw new InvalidOperationException($"{pending.Sum(s => s.Length)} bytes left over after the last read");
        }

        return frames;
    }

    /// <summary>Decodes a buffer that holds whole frames only, in one contiguous segment.</summary>
    public static List<Frame> DecodeWhole(byte[] bytes, ProtocolLimits limits) =>
        DecodeChunks([bytes], limits);
}
