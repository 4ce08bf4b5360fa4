using System.Diagnostics;

namespace Parley.IntegrationTests.P2P;

/// <summary>
/// A long-running `parley` process of a P2P test (listen --p2p --follow, chat --p2p), optionally inside a network
/// namespace. Collects its stdout and stderr lines; tests wait on those lines (with <see cref="Parley.Timeout"/>),
/// never on sleeps.
/// </summary>
public sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);

    private PeerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (_stdout)
            {
                return [.. _stdout];
            }
        }
    }

    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (_stderr)
            {
                return [.. _stderr];
            }
        }
    }

    /// <summary>Starts `parley --home HOME args...`; inside <paramref name="netns"/> when given (ip netns exec).</summary>
    public static PeerProcess Start(string home, string[] args, string? netns = null)
    {
        var info = Parley.StartInfo(["--home", home, .. args]);
        if (netns is not null)
        {
            // ip netns exec NS dotnet parley.dll ...: the same command, run inside the namespace.
            List<string> inner = ["netns", "exec", netns, info.FileName, .. info.ArgumentList];
            info.FileName = NetworkNamespaces.Ip;
            info.ArgumentList.Clear();
            foreach (var arg in inner)
            {
                info.ArgumentList.Add(arg);
            }
        }

        var process = new Process { StartInfo = info };
        var peer = new PeerProcess(process);
        process.OutputDataReceived += (_, e) => peer.Append(peer._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => peer.Append(peer._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Waits until <paramref name="condition"/> holds over (stdout, stderr), re-checking on every new line.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<string>, IReadOnlyList<string>, bool> condition, string what, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? Parley.Timeout);
        while (!condition(Stdout, Stderr))
        {
            if (_process.HasExited && !condition(Stdout, Stderr))
            {
                await _process.WaitForExitAsync(deadline.Token); // let the last lines arrive
                if (condition(Stdout, Stderr))
                {
                    return;
                }

                throw new InvalidOperationException($"process exited ({_process.ExitCode}) before: {what}\n{Dump()}");
            }

            try
            {
                await _changed.WaitAsync(TimeSpan.FromMilliseconds(500), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"timed out waiting for: {what}\n{Dump()}");
            }
        }
    }

    /// <summary>Waits for the "p2p ready" line (registered in the directory and accepting links).</summary>
    public Task WaitReadyAsync() => WaitForAsync((_, err) => err.Any(l => l.Contains("p2p ready", StringComparison.Ordinal)), "p2p ready");

    /// <summary>kill -9: no clean shutdown, the directory entry stays until it expires.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Sends a signal to the process (STOP/CONT to make it go silent and come back).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    public async Task<int> WaitForExitAsync()
    {
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    public string Dump() => $"stdout:\n{string.Join('\n', Stdout.TakeLast(30))}\nstderr:\n{string.Join('\n', Stderr.TakeLast(30))}";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
            }
        }

        _process.Dispose();
        _changed.Dispose();
    }

    private void Append(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }

        try
        {
            _changed.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
