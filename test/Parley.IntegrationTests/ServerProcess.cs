using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Parley.IntegrationTests;

/// <summary>
/// A real `parley serve` process on 127.0.0.1. It starts on a free port; <see cref="RestartAsync"/> starts it again on
/// the same port and data folder, as an operator would after a crash or an upgrade.
/// <para>
/// With PARLEY_TEST_NATS=1 every test's server is a cluster instead: two `parley serve --nats` nodes on one
/// nats-server (started once per test run), sharing the data folder so they share the TLS key.
/// <see cref="AddressFor"/> (the CLI's homes) and <see cref="Port"/> (library clients, in turn) spread users over the
/// nodes, so their messages cross nodes; kill, stop and restart act on both.
/// </para>
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly string _data;
    private string[] _extraArgs = [];
    private IReadOnlyDictionary<string, string> _environment = new Dictionary<string, string>();
    private readonly StringBuilder _log = new();
    private Process? _process;
    private ServerProcess? _twin;
    private int _port;
    private int _turn;

    private ServerProcess(string data) => _data = data;

    /// <summary>True when the tests run every server as a two-node cluster on NATS (PARLEY_TEST_NATS=1).</summary>
    public static bool ClusterMode { get; } = Environment.GetEnvironmentVariable("PARLEY_TEST_NATS") == "1";

    /// <summary>The node's port; in cluster mode, each call answers the next node in turn.</summary>
    public int Port => _twin is null || Interlocked.Increment(ref _turn) % 2 == 1 ? _port : _twin._port;

    /// <summary>The (first) node's address; stable, so a test that logs in twice meets the same key.</summary>
    public string Address => $"127.0.0.1:{_port}";

    /// <summary>
    /// The node a home uses: in cluster mode picked by a stable hash of <paramref name="home"/>, so the users of one
    /// test spread over both nodes and each home always meets the same node.
    /// </summary>
    public string AddressFor(string home) =>
        _twin is null || (uint)home.Aggregate(17, (h, c) => (h * 31) + c) % 2 == 0 ? Address : _twin.Address;

    /// <summary>The port of the listener for the note's old client, when started with --seed-compat (else 0).</summary>
    public int SeedCompatPort { get; private set; }

    public string Fingerprint { get; private set; } = string.Empty;

    public string DataDirectory => _data;

    /// <summary>Everything the server wrote to stderr (its log) since it was last (re)started (both nodes' in cluster mode).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString() + (_twin?.Log ?? string.Empty);
            }
        }
    }

    public int ProcessId => _process!.Id;

    /// <summary>Resident memory of the server process now, from /proc.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{ProcessId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("no VmRSS");
    }

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    public static Task<ServerProcess> StartAsync(string data, params string[] extraArgs) =>
        StartAsync(data, new Dictionary<string, string>(), extraArgs);

    /// <summary>Starts the server with <paramref name="environment"/> added to its environment (runtime settings, say).</summary>
    public static async Task<ServerProcess> StartAsync(string data, IReadOnlyDictionary<string, string> environment, params string[] extraArgs)
    {
        if (ClusterMode)
        {
            var nats = await Cluster.SharedNats.GetAsync();
            extraArgs = [.. extraArgs, "--nats", nats.Url, "--nats-namespace", Cluster.NatsFixture.NewNamespace()];
        }

        var server = new ServerProcess(data) { _extraArgs = extraArgs, _environment = environment };
        await server.LaunchAsync(0, extraArgs);
        if (ClusterMode)
        {
            // Started after the first node made the key, so both serve the same one.
            server._twin = new ServerProcess(data) { _extraArgs = extraArgs, _environment = environment };
            await server._twin.LaunchAsync(0, extraArgs);
        }

        return server;
    }

    /// <summary>kill -9: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process!.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        if (_twin is not null)
        {
            await _twin.KillAsync();
        }
    }

    /// <summary>SIGTERM, then wait for the process to exit by itself.</summary>
    public async Task StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(Parley.Timeout);
        await _process.WaitForExitAsync(deadline.Token);
        if (_twin is not null)
        {
            await _twin.StopAsync();
        }
    }

    /// <summary>Starts again on the same port and data folder, with the arguments it was started with.</summary>
    public async Task RestartAsync()
    {
        await LaunchAsync(_port, _extraArgs);
        if (_twin is not null)
        {
            await _twin.RestartAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_twin is not null)
        {
            await _twin.DisposeAsync();
        }

        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }

    private async Task LaunchAsync(int port, string[] extraArgs)
    {
        _process?.Dispose();
        lock (_log)
        {
            _log.Clear();
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = Parley.StartInfo(["serve", "--data", _data, "--listen", $"127.0.0.1:{port}", .. extraArgs]) };
        foreach (var (name, value) in _environment)
        {
            process.StartInfo.Environment[name] = value;
        }
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException("server exited before it was ready:\n" + Log));
                return;
            }

            if (ListeningLine().Match(e.Data) is { Success: true } listening)
            {
                _port = int.Parse(listening.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (SeedCompatLine().Match(e.Data) is { Success: true } seed)
            {
                SeedCompatPort = int.Parse(seed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (e.Data.StartsWith("key fingerprint ", StringComparison.Ordinal))
            {
                Fingerprint = e.Data["key fingerprint ".Length..].Trim();
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_log)
                {
                    _log.AppendLine(e.Data);
                    // PARLEY_TEST_SERVER_LOG=FILE keeps every server's log, for a failure whose test does not print it.
                    if (Environment.GetEnvironmentVariable("PARLEY_TEST_SERVER_LOG") is { Length: > 0 } file)
                    {
                        File.AppendAllText(file, e.Data + Environment.NewLine);
                    }
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await ready.Task.WaitAsync(Parley.Timeout);
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"seed-compat guests .* at 127\.0\.0\.1:(\d+)")]
    private static partial Regex SeedCompatLine();
}
