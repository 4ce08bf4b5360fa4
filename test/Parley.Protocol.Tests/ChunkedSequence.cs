using System.Buffers;

namespace Parley.Protocol.Tests;

/// <summary>Builds a <see cref="ReadOnlySequence{T}"/> with one segment per chunk, as a pipe reader hands them out.</summary>
internal static class ChunkedSequence
{
    public static ReadOnlySequence<byte> From(IReadOnlyList<ReadOnlyMemory<byte>> chunks)
    {
        if (chunks.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (chunks.Count == 1)
        {
            return new ReadOnlySequence<byte>(chunks[0]);
        }

        var first = new Segment(chunks[0], 0);
        var last = first;
        for (var i = 1; i < chunks.Count; i++)
        {
            last = last.Append(chunks[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Cuts <paramref name="bytes"/> at the given offsets (sorted or not, duplicates give empty chunks).</summary>
    public static List<ReadOnlyMemory<byte>> Split(byte[] bytes, IEnumerable<int> cuts)
    {
        var chunks = new List<ReadOnlyMemory<byte>>();
        var start = 0;
        foreach (var cut in cuts.Order())
        {
            chunks.Add(bytes.AsMemory(start, cut - start));
            start = cut;
        }

        chunks.Add(bytes.AsMemory(start));
        return chunks;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
