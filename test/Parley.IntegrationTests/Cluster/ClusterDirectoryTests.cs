using Parley.Client;
using Parley.Protocol;

namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// The P2P directory is cluster-wide (docs/p2p.md, "The directory in cluster mode"): two `parley serve --nats` nodes,
/// driven through the real protocol. A device registered through node A is found by a LOOKUP on node B, its
/// heartbeats may go to either node, a wrong secret is refused on the node that did not issue it, logout on one node
/// removes it for all, and an entry nobody refreshes is gone from every node after the timeout. The interval is 2 s
/// and 3 may be missed (6 s): quick expiry, with room for a loaded machine's stalls between heartbeats; every wait
/// polls against a generous deadline.
/// </summary>
public sealed class ClusterDirectoryTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private static readonly byte[] AliceKey = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private static readonly TimeSpan EntryLifetime = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task RegisteredOnA_FoundOnB_HeartbeatsOnBKeepIt_ThenExpiresOnEveryNode()
    {
        await using var cluster = await StartAsync();
        await using var alice = await cluster.LoginAsync("alice", "phone", register: true, 0);
        await using var bobOnB = await cluster.LoginAsync("bob", "laptop", register: true, 1);
        await using var bobOnA = await cluster.LoginAsync("bob", "desktop", register: false, 0);

        var registered = await alice.RegisterInDirectoryAsync("alice", "phone", "10.0.0.7:7979", AliceKey);
        var peers = await bobOnB.LookupAsync("alice");

        Assert.Equal((2000u, 6000u), (registered.IntervalMs, registered.TimeoutMs));
        var entry = Assert.Single(peers.Entries);
        Assert.Equal(("phone", "10.0.0.7:7979"), (entry.Device, entry.Endpoint));
        Assert.Equal(AliceKey, entry.Fingerprint);

        // Heartbeats only through node B, for more than twice the lifetime: without them the entry would be gone.
        var keptUntil = DateTime.UtcNow + (EntryLifetime * 2) + TimeSpan.FromSeconds(1);
        while (DateTime.UtcNow < keptUntil)
        {
            await HeartbeatAsync(cluster.Nodes[1], registered.Secret);
            await Task.Delay(300);
        }

        Assert.Single((await bobOnA.LookupAsync("alice")).Entries);
        Assert.Single((await bobOnB.LookupAsync("alice")).Entries);

        // Then silence: gone from both nodes, and a late heartbeat on either is told to register again.
        await WaitUntilGoneAsync(bobOnA);
        await WaitUntilGoneAsync(bobOnB);
        var late = await Assert.ThrowsAsync<ParleyErrorException>(() => HeartbeatAsync(cluster.Nodes[0], registered.Secret));
        Assert.Equal(ErrorCode.UnknownDevice, late.Code);
    }

    [Fact]
    public async Task WrongSecretOnTheOtherNode_Refused_LogoutOnB_RemovesTheEntryForNodeA()
    {
        await using var cluster = await StartAsync("--directory-heartbeat-interval", "30");
        await using var bobOnA = await cluster.LoginAsync("bob", "laptop", register: true, 0);
        await using (var aliceOnA = await cluster.LoginAsync("alice", "phone", register: true, 0))
        {
        }

        await using var alice = await cluster.LoginAsync("alice", "phone", register: false, 1);
        var registered = await alice.RegisterInDirectoryAsync("alice", "phone", "10.0.0.7:7979", AliceKey);

        var wrong = await Assert.ThrowsAsync<ParleyErrorException>(() => HeartbeatAsync(cluster.Nodes[0], new byte[registered.Secret.Length]));
        Assert.Equal(ErrorCode.AuthFailed, wrong.Code);
        await HeartbeatAsync(cluster.Nodes[0], registered.Secret); // the right one is still accepted there
        Assert.Single((await bobOnA.LookupAsync("alice")).Entries);

        await alice.LogoutAsync();

        Assert.Empty((await bobOnA.LookupAsync("alice")).Entries);
    }

    private Task<ClusterNodes> StartAsync(params string[] overrides) =>
        ClusterNodes.StartAsync(nats.Server.Url, 2,
            overrides.Length > 0 ? overrides : ["--directory-heartbeat-interval", "2", "--directory-missed-heartbeats", "3"]);

    /// <summary>A device's heartbeat: its own short connection, no login, closed by the server after the answer.</summary>
    private static async Task HeartbeatAsync(ServerProcess node, byte[] secret)
    {
        await using var connection = await LibraryClient.ConnectAsync(node);
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        await connection.HeartbeatAsync("alice", "phone", secret, deadline.Token);
    }

    private static async Task WaitUntilGoneAsync(ParleyConnection lookingUp)
    {
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        while ((await lookingUp.LookupAsync("alice", deadline.Token)).Entries.Count > 0)
        {
            await Task.Delay(200, deadline.Token);
        }
    }
}
