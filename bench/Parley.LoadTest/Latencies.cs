using System.Diagnostics;

namespace Parley.LoadTest;

/// <summary>
/// Latency samples in Stopwatch ticks, one slot per message, written without locks (each message owns its slot).
/// Percentiles are nearest-rank on the sorted samples: with 2,000 or more samples p99 is a real observation.
/// </summary>
internal sealed class Latencies(int capacity)
{
    private readonly long[] _ticks = new long[capacity];
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Records the sample of message <paramref name="index"/>; safe from many threads as long as indices differ.</summary>
    public void Set(int index, long ticks)
    {
        _ticks[index] = ticks;
        Interlocked.Increment(ref _count);
    }

    /// <summary>The <paramref name="percentile"/> (0-100) in milliseconds, or NaN with no samples.</summary>
    public double PercentileMs(double percentile)
    {
        var count = Count;
        if (count == 0)
        {
            return double.NaN;
        }

        var sorted = _ticks.AsSpan(0, count).ToArray();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(percentile / 100 * count);
        return sorted[Math.Clamp(rank - 1, 0, count - 1)] * 1000.0 / Stopwatch.Frequency;
    }
}
