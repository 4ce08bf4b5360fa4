using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// A real nats-server on 127.0.0.1 with JetStream and a temporary store folder, alone or as one of a cluster. Started
/// by the tests, stopped by its process id (kill -9 when asked: <see cref="Kill"/>). Readiness is polled on the
/// monitoring port within a deadline, never assumed after a sleep.
/// </summary>
public sealed class NatsServerProcess : IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly StringBuilder _log = new();
    private readonly string[] _args;
    private Process? _process;

    private NatsServerProcess(string name, int port, int monitorPort, int clusterPort, string storeDirectory, string[] args)
    {
        Name = name;
        Port = port;
        MonitorPort = monitorPort;
        ClusterPort = clusterPort;
        StoreDirectory = storeDirectory;
        _args = args;
    }

    /// <summary>The server name (-n), as JetStream reports it for stream leaders.</summary>
    public string Name { get; }

    public int Port { get; }

    public int MonitorPort { get; }

    public int ClusterPort { get; }

    public string StoreDirectory { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    public int ProcessId => _process!.Id;

    public bool HasExited => _process is null || _process.HasExited;

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Where nats-server is: PATH, or /usr/sbin where Debian puts it (not on every user's PATH).</summary>
    public static string? FindExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/sbin").Append("/usr/local/bin"))
        {
            var candidate = Path.Combine(directory, "nats-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>One server with JetStream (or without, to test the error Parley gives then).</summary>
    public static Task<NatsServerProcess> StartSingleAsync(string storeDirectory, bool jetStream = true) =>
        WithFreshPortsAsync(() => StartSingleOnceAsync(storeDirectory, jetStream));

    /// <summary>Three servers in one cluster with JetStream, ready when a JetStream meta leader is elected.</summary>
    public static Task<NatsServerProcess[]> StartClusterAsync(string root, int size = 3) =>
        WithFreshPortsAsync(() => StartClusterOnceAsync(root, size));

    /// <summary>
    /// Ports are picked free (<see cref="FreePort"/>) and then given to nats-server, and in between another process on
    /// the machine (the tests' own connections take ephemeral ports from the same range) may take one: nats-server then
    /// exits with "address already in use". That start is thrown away (its processes stopped, its store folders
    /// deleted) and made again on other ports, a few times.
    /// </summary>
    private static async Task<T> WithFreshPortsAsync<T>(Func<Task<T>> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await start();
            }
            catch (PortTakenException) when (attempt < 3)
            {
            }
        }
    }

    private static async Task<NatsServerProcess> StartSingleOnceAsync(string storeDirectory, bool jetStream)
    {
        var port = FreePort();
        var monitor = FreePort();
        List<string> args = ["-a", "127.0.0.1", "-p", Num(port), "-m", Num(monitor), "-n", "solo", "-sd", storeDirectory];
        if (jetStream)
        {
            args.Add("-js");
        }

        var server = new NatsServerProcess("solo", port, monitor, 0, storeDirectory, [.. args]);
        server.Launch();
        try
        {
            await server.WaitReadyAsync(clustered: false, jetStream);
        }
        catch
        {
            server.Discard();
            throw;
        }

        return server;
    }

    private static async Task<NatsServerProcess[]> StartClusterOnceAsync(string root, int size)
    {
        var ports = Enumerable.Range(0, size).Select(_ => (Client: FreePort(), Monitor: FreePort(), Cluster: FreePort())).ToArray();
        var routes = string.Join(",", ports.Select(p => $"nats://127.0.0.1:{p.Cluster}"));
        var servers = new NatsServerProcess[size];
        for (var i = 0; i < size; i++)
        {
            var name = $"n{i + 1}";
            var store = Path.Combine(root, name);
            servers[i] = new NatsServerProcess(name, ports[i].Client, ports[i].Monitor, ports[i].Cluster, store,
            [
                "-a", "127.0.0.1", "-p", Num(ports[i].Client), "-m", Num(ports[i].Monitor), "-n", name, "-js", "-sd", store,
                "--cluster_name", "parley-test", "--cluster", $"nats://127.0.0.1:{ports[i].Cluster}", "--routes", routes,
            ]);
            servers[i].Launch();
        }

        try
        {
            foreach (var server in servers)
            {
                await server.WaitReadyAsync(clustered: true, jetStream: true);
            }
        }
        catch
        {
            foreach (var server in servers)
            {
                server.Discard();
            }

            throw;
        }

        return servers;
    }

    /// <summary>Starts the same server again (same ports, same store folder) after <see cref="Kill"/>.</summary>
    public Task RestartAsync(bool clustered)
    {
        Launch();
        return WaitReadyAsync(clustered, jetStream: true);
    }

    /// <summary>kill -9 by process id: no shutdown code runs, as in a crash.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }

    /// <summary>A start that failed: stopped, and its store folder deleted so that the next start begins clean.</summary>
    private void Discard()
    {
        Dispose();
        if (Directory.Exists(StoreDirectory))
        {
            Directory.Delete(StoreDirectory, recursive: true);
        }
    }

    /// <summary>nats-server could not listen on a port <see cref="FreePort"/> picked: another process took it in between.</summary>
    private sealed class PortTakenException(string message) : InvalidOperationException(message);

    private void Launch()
    {
        var executable = FindExecutable() ?? throw new InvalidOperationException(
            "nats-server is not installed: scripts/test.sh installs it (apt-get install nats-server)");
        Directory.CreateDirectory(StoreDirectory);
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in _args)
        {
            info.ArgumentList.Add(arg);
        }

        _process?.Dispose();
        var process = new Process { StartInfo = info };
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_log)
                {
                    _log.AppendLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>
    /// Polls /jsz on the monitoring port (a bounded deadline, short pauses between polls): up when it answers, and in a
    /// cluster when the JetStream meta group has a leader, because before that no stream can be created.
    /// </summary>
    private async Task WaitReadyAsync(bool clustered, bool jetStream)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ReadyTimeout)
        {
            if (_process!.HasExited)
            {
                var message = $"nats-server {Name} exited with {_process.ExitCode}:\n{Log}";
                throw Log.Contains("address already in use", StringComparison.Ordinal)
                    ? new PortTakenException(message)
                    : new InvalidOperationException(message);
            }

            try
            {
                var jsz = await http.GetStringAsync($"http://127.0.0.1:{MonitorPort}/jsz");
                if (!jetStream || !clustered || System.Text.RegularExpressions.Regex.IsMatch(jsz, "\"leader\":\\s*\""))
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"nats-server {Name} was not ready within {ReadyTimeout}:\n{Log}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}
