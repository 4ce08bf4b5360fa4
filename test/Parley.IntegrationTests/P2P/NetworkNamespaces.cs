using System.Diagnostics;

namespace Parley.IntegrationTests.P2P;

/// <summary>
/// Hosts in network namespaces for one test: a "switch" namespace with a bridge, and one namespace per host joined
/// to it by a veth pair, each with its own address on 10.77.0.0/24. Nothing is created in the host's own
/// namespace (the veth pairs are created directly inside the namespaces), names are unique per test, and
/// <see cref="DisposeAsync"/> deletes every namespace it made (deleting a namespace deletes its veth ends).
/// </summary>
public sealed class NetworkNamespaces : IAsyncDisposable
{
    public const string Ip = "/usr/sbin/ip";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);
    private readonly string _prefix = "pp" + Guid.NewGuid().ToString("N")[..6];
    private readonly List<string> _created = [];
    private int _hosts;

    /// <summary>Why the test cannot run here, or null: it needs root and /usr/sbin/ip.</summary>
    public static string? Unavailable() =>
        !File.Exists(Ip) ? $"{Ip} is missing"
        : Environment.UserName != "root" && !IsRootByUid() ? "not running as root"
        : null;

    /// <summary>The bridge namespace; call first.</summary>
    public async Task CreateSwitchAsync()
    {
        await AddNamespaceAsync(Switch);
        await RunAsync("-n", Switch, "link", "add", "br0", "type", "bridge");
        await RunAsync("-n", Switch, "link", "set", "br0", "up");
    }

    private string Switch => _prefix + "-sw";

    /// <summary>Adds a host: a namespace named PREFIX-NAME with address 10.77.0.N on a veth to the bridge. Returns (namespace, address).</summary>
    public async Task<(string Namespace, string Address)> AddHostAsync(string name)
    {
        var index = ++_hosts;
        var ns = $"{_prefix}-{name}";
        var address = $"10.77.0.{index}";
        await AddNamespaceAsync(ns);
        var inside = $"eth{index}";
        var outside = $"port{index}";
        await RunAsync("-n", ns, "link", "add", inside, "type", "veth", "peer", "name", outside, "netns", Switch);
        await RunAsync("-n", Switch, "link", "set", outside, "master", "br0");
        await RunAsync("-n", Switch, "link", "set", outside, "up");
        await RunAsync("-n", ns, "addr", "add", $"{address}/24", "dev", inside);
        await RunAsync("-n", ns, "link", "set", inside, "up");
        await RunAsync("-n", ns, "link", "set", "lo", "up");
        return (ns, address);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var ns in Enumerable.Reverse(_created))
        {
            try
            {
                await RunAsync("netns", "del", ns);
            }
            catch (InvalidOperationException)
            {
                // best effort: the others are still removed
            }
        }
    }

    /// <summary>Namespaces of this test still present (for the cleanup assertion).</summary>
    public async Task<IReadOnlyList<string>> RemainingAsync()
    {
        var list = await RunAsync("netns", "list");
        return [.. list.Split('\n').Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(_prefix, StringComparison.Ordinal))];
    }

    private async Task AddNamespaceAsync(string ns)
    {
        await RunAsync("netns", "add", ns);
        _created.Add(ns);
    }

    private static bool IsRootByUid()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                return line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0";
            }
        }

        return false;
    }

    private static async Task<string> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Ip) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new InvalidOperationException($"ip {string.Join(' ', args)} did not finish within {CommandTimeout}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
        }

        return await stdout;
    }
}
