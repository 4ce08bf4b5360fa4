using System.Globalization;

namespace Parley.PeerBench;

/// <summary>The server under test, seen through /proc: CPU time (utime+stime) and resident memory.</summary>
internal sealed class ServerProcess(int pid)
{
    /// <summary>Clock ticks a second for /proc/PID/stat (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    private readonly Dictionary<int, (string Name, long First, long Last)> _threads = [];
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

    /// <summary>
    /// Each thread's share of the CPU time the server's threads used while sampling, by thread name (comm), largest
    /// first: for Parley this separates the store's writer thread from the thread pool (TLS, sockets, sessions).
    /// Threads are read every 500 ms, so a thread that lived less than that is missed.
    /// </summary>
    public string ThreadShares(int top = 5)
    {
        SampleThreads();
        lock (_threads)
        {
            var byName = _threads.Values.GroupBy(thread => thread.Name).Select(group => (Name: group.Key, Ticks: group.Sum(thread => thread.Last - thread.First)))
                .Where(entry => entry.Ticks > 0).OrderByDescending(entry => entry.Ticks).ToArray();
            var total = Math.Max(1, byName.Sum(entry => entry.Ticks));
            return string.Join(", ", byName.Take(top).Select(entry => string.Create(CultureInfo.InvariantCulture, $"{entry.Name} {100.0 * entry.Ticks / total:0}%")));
        }
    }

    public void StartSampling()
    {
        lock (_threads)
        {
            _threads.Clear();
        }

        SampleThreads();
        Interlocked.Exchange(ref _peakRss, Rss());
        _sampling = new CancellationTokenSource();
        var token = _sampling.Token;
        _sampler = Task.Run(async () =>
        {
            var samples = 0;
            while (!token.IsCancellationRequested)
            {
                var rss = Rss();
                if (rss > Interlocked.Read(ref _peakRss))
                {
                    Interlocked.Exchange(ref _peakRss, rss);
                }

                if (++samples % 5 == 0)
                {
                    SampleThreads();
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

    private void SampleThreads()
    {
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (IOException)
        {
            return;
        }

        foreach (var task in tasks)
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                var name = stat[(open + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                var tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
                lock (_threads)
                {
                    _threads[tid] = _threads.TryGetValue(tid, out var seen) ? seen with { Last = ticks } : (name, ticks, ticks);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The thread ended between the listing and the read.
            }
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
