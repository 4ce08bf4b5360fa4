using System.Diagnostics;
using System.Globalization;

namespace Parley.Cli;

/// <summary>
/// Progress of a file transfer on stderr: a bar redrawn in place on a terminal (percent, rate, time left), plain lines
/// every few seconds otherwise (logs, tests). The rate counts only bytes moved in this run, not resumed ones.
/// </summary>
internal sealed class TransferProgress(string verb, string name)
{
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan BarInterval = TimeSpan.FromMilliseconds(100);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private readonly Lock _lock = new();
    private long _first = -1;
    private TimeSpan _lastDrawn = TimeSpan.FromHours(-1); // draws the first report at once

    public void Report(long done, long total)
    {
        lock (_lock)
        {
            if (_first < 0)
            {
                _first = done;
                _clock.Restart();
                if (done > 0)
                {
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"parley: resuming {name} at byte {done} of {total}"));
                }
            }

            var now = _clock.Elapsed;
            var finished = done >= total;
            if (!finished && now - _lastDrawn < (_terminal ? BarInterval : LineInterval))
            {
                return;
            }

            _lastDrawn = now;
            var percent = total == 0 ? 100 : done * 100.0 / total;
            var rate = now.TotalSeconds > 0 ? (done - _first) / now.TotalSeconds : 0;
            // Before any byte moved the rate is 0 and the time left unknown: shown as 0 rather than overflowing.
            var left = rate >= 1 ? TimeSpan.FromSeconds(Math.Min((total - done) / rate, 359_999)) : TimeSpan.Zero;
            var figures = string.Create(CultureInfo.InvariantCulture,
                $"{percent,5:0.0}% {Size(done)}/{Size(total)} {Size((long)rate)}/s {(finished ? "done" : $"{left:hh\\:mm\\:ss} left")}");
            if (_terminal)
            {
                const int width = 30;
                var filled = (int)(percent / 100 * width);
                Console.Error.Write($"\r{verb} [{new string('#', filled)}{new string('.', width - filled)}] {figures}  ");
                if (finished)
                {
                    Console.Error.WriteLine();
                }
            }
            else
            {
                Console.Error.WriteLine($"parley: {verb} {figures}");
            }
        }
    }

    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
