using System.Globalization;

namespace Parley.PeerBench;

/// <summary>The server under test, seen through /proc: CPU time (utime+stime) and resident memory.</summary>
internal sealed class ServerProcess(int pid)
{
    /// <summary>Clock ticks a second for /proc/PID/stat (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    private long _peakRss;
    private CancellationTokenSource? _sampling;
    private Task _sampler = Task.CompletedTask;

    public int Pid => pid;

    /// <summary>utime + stime of the whole process, in microseconds (10 ms resolution).</summary>
    public double CpuMicroseconds()
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which is in parentheses and may hold spaces): state is field 3, utime 14, stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / TicksPerSecond * 1e6;
    }

    /// <summary>VmRSS in bytes.</summary>
    public long Rss() => StatusField("VmRSS:");

    /// <summary>The highest VmRSS seen by the sampler since <see cref="StartSampling"/>.</summary>
    public long PeakRss => Math.Max(Interlocked.Read(ref _peakRss), Rss());

    public void StartSampling()
    {
        Interlocked.Exchange(ref _peakRss, Rss());
        _sampling = new CancellationTokenSource();
        var token = _sampling.Token;
        _sampler = Task.Run(async () =>
        {
            while (!token.IsCancellationRequested)
            {
                var rss = Rss();
                if (rss > Interlocked.Read(ref _peakRss))
                {
                    Interlocked.Exchange(ref _peakRss, rss);
                }

                try
                {
                    await Task.Delay(100, token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }, CancellationToken.None);
    }

    public async Task StopSamplingAsync()
    {
        if (_sampling is not null)
        {
            await _sampling.CancelAsync();
            await _sampler;
            _sampling.Dispose();
            _sampling = null;
        }
    }

    private long StatusField(string name)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                return long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
