using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Parley.FileBench;

/// <summary>Runs `parley` processes and samples their peak resident memory (VmHWM in /proc/PID/status).</summary>
internal sealed partial class Proc : IAsyncDisposable
{
    private readonly Process _process;
    private readonly CancellationTokenSource _stop = new();
    private long _peak;

    private Proc(Process process)
    {
        _process = process;
        _ = SampleAsync();
    }

    public string Address { get; private set; } = string.Empty;

    /// <summary>VmHWM (the kernel's peak resident set) as last sampled, every 20 ms, since <see cref="ResetPeak"/>.</summary>
    public long Peak => Interlocked.Read(ref _peak);

    public void ResetPeak() => Interlocked.Exchange(ref _peak, 0);

    public static async Task<Proc> StartServerAsync(string parley, string data)
    {
        var process = Process.Start(Info(parley, "serve", "--data", data, "--listen", "127.0.0.1:0", "--log-level", "Warning"))!;
        _ = process.StandardError.ReadToEndAsync();
        var proc = new Proc(process);
        var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("server did not start");
        proc.Address = AddressPattern().Match(line).Value;
        return proc;
    }

    /// <summary>Runs a command to its end; returns its output, wall time and peak RSS (VmHWM read just before it exits).</summary>
    public static async Task<(string Stdout, TimeSpan Elapsed, long PeakRss)> RunAsync(string parley, string? stdin, params string[] args)
    {
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(Info(parley, args))!;
        var proc = new Proc(process);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync();
        clock.Stop();
        await proc.DisposeAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"parley {string.Join(' ', args)} failed: {await stderr}");
        }

        return (await stdout, clock.Elapsed, proc.Peak);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    private static ProcessStartInfo Info(string parley, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(parley);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private async Task SampleAsync()
    {
        var status = $"/proc/{_process.Id}/status";
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                foreach (var line in await File.ReadAllLinesAsync(status))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        var kib = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                        var seen = Interlocked.Read(ref _peak);
                        while (kib * 1024 > seen && Interlocked.CompareExchange(ref _peak, kib * 1024, seen) != seen)
                        {
                            seen = Interlocked.Read(ref _peak);
                        }
                    }
                }

                await Task.Delay(20);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                return; // the process has exited
            }
        }
    }

    [GeneratedRegex(@"127\.0\.0\.1:\d+")]
    private static partial Regex AddressPattern();
}
