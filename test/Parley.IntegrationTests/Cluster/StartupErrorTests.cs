using System.Net;
using System.Net.Sockets;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Parley.IntegrationTests.Cluster;

/// <summary>`parley serve --nats` refuses to start, with a message that says what is wrong, when NATS is not usable.</summary>
public sealed class StartupErrorTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task Serve_NatsUnreachable_ExitsWithClearError()
    {
        using var data = new TempDirectory();
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var result = await Parley.RunAsync(null, "serve", "--data", data.Path, "--listen", "127.0.0.1:0", "--nats", $"nats://127.0.0.1:{port}");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot reach NATS at nats://127.0.0.1:" + port, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_JetStreamDisabled_ExitsWithClearError()
    {
        using var root = new TempDirectory();
        using var plain = await NatsServerProcess.StartSingleAsync(root.Sub("js"), jetStream: false);
        var result = await Parley.RunAsync(null, "serve", "--data", root.Sub("data"), "--listen", "127.0.0.1:0", "--nats", plain.Url);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("JetStream disabled", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("-js", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_FileRetentionDifferentFromTheOtherNodes_ExitsWithClearError()
    {
        await using var cluster = await ClusterNodes.StartAsync(nats.Server.Url, 1);
        using var data = new TempDirectory();
        var result = await Parley.RunAsync(null, "serve", "--data", data.Path, "--listen", "127.0.0.1:0", "--nats", nats.Server.Url,
            "--nats-namespace", cluster.Namespace, "--file-retention-days", "3");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("keeps files for 7 day(s)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--file-retention-days is 3", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_ThreeReplicasOnASingleServer_ExitsWithClearError()
    {
        using var data = new TempDirectory();
        var result = await Parley.RunAsync(null, "serve", "--data", data.Path, "--listen", "127.0.0.1:0", "--nats", nats.Server.Url,
            "--nats-replicas", "3", "--nats-namespace", NatsFixture.NewNamespace());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("3 replica(s)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--nats-replicas 1", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_StreamNameTakenByAnotherApplication_ExitsWithClearError()
    {
        var ns = NatsFixture.NewNamespace();
        await using (var connection = new NatsConnection(new NatsOpts { Url = nats.Server.Url }))
        {
            var js = new NatsJSContext(connection);
            await js.CreateStreamAsync(new StreamConfig(ns.ToUpperInvariant() + "_LOG", ["other.things.>"]));
        }

        using var data = new TempDirectory();
        var result = await Parley.RunAsync(null, "serve", "--data", data.Path, "--listen", "127.0.0.1:0", "--nats", nats.Server.Url, "--nats-namespace", ns);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("exists with subjects [other.things.>]", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_DirectoryHeartbeatSettingsUnlikeTheOtherNodes_ExitsWithClearError()
    {
        var ns = NatsFixture.NewNamespace();
        await using (var otherNode = await Storage.Nats.NatsChatStore.OpenAsync(new Storage.Nats.NatsStoreOptions { Urls = [nats.Server.Url], Namespace = ns }))
        {
            await otherNode.OpenDirectoryAsync(TimeSpan.FromSeconds(90)); // the defaults: 30 s × 3
        }

        using var data = new TempDirectory();
        var result = await Parley.RunAsync(null, "serve", "--data", data.Path, "--listen", "127.0.0.1:0", "--nats", nats.Server.Url, "--nats-namespace", ns,
            "--directory-heartbeat-interval", "10");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("keeps messages for 90 s, but this node asks for 30 s", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--directory-heartbeat-interval", result.Stderr, StringComparison.Ordinal);
    }
}
