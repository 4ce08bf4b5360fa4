using Parley.Client;

namespace Parley.IntegrationTests.Cluster;

/// <summary>Parley nodes (`parley serve --nats`) on one NATS namespace, and library clients that fail over between them.</summary>
public sealed class ClusterNodes : IAsyncDisposable
{
    private readonly TempDirectory _root = new();

    private ClusterNodes(string ns) => Namespace = ns;

    public string Namespace { get; }

    public List<ServerProcess> Nodes { get; } = [];

    public static async Task<ClusterNodes> StartAsync(string natsUrls, int count, params string[] extraArgs)
    {
        var cluster = new ClusterNodes(NatsFixture.NewNamespace());
        for (var i = 0; i < count; i++)
        {
            cluster.Nodes.Add(await ServerProcess.StartAsync(cluster._root.Sub($"node{i}"),
                ["--nats", natsUrls, "--nats-namespace", cluster.Namespace, .. extraArgs]));
        }

        return cluster;
    }

    /// <summary>Logs in on the first node of <paramref name="order"/> that answers (a client's list of servers).</summary>
    public async Task<ParleyConnection> LoginAsync(string user, string device, bool register = false, params int[] order)
    {
        Exception? last = null;
        foreach (var index in order.Length == 0 ? Enumerable.Range(0, Nodes.Count) : order)
        {
            var node = Nodes[index];
            if (node.ExitCode is not null)
            {
                continue;
            }

            try
            {
                return await LibraryClient.LoginAsync(node, user, device, register);
            }
            catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException or ParleyErrorException { Code: Protocol.ErrorCode.InternalError })
            {
                last = exception;
            }
        }

        throw new IOException("no node answered", last);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        _root.Dispose();
    }
}
