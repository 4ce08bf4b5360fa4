using System.Diagnostics;

namespace Parley.LoadTest;

/// <summary>
/// Processor time this process used since <see cref="Start"/>, on all threads. Client and server share the process
/// and the machine, so CPU per message next to messages per second shows whether a rate is bounded by the
/// processors (CPU per message × rate ≈ the number of cores) or by waiting (fsync, round trips).
/// </summary>
internal readonly struct CpuClock
{
    private readonly TimeSpan _start;

    private CpuClock(TimeSpan start) => _start = start;

    public static CpuClock Start() => new(Now());

    /// <summary>Microseconds of CPU per message over <paramref name="messages"/> messages.</summary>
    public double MicrosPer(int messages) => (Now() - _start).TotalMicroseconds / messages;

    private static TimeSpan Now()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
