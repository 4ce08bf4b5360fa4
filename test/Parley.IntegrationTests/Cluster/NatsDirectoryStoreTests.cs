using Parley.Storage;
using Parley.Storage.Nats;

namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// The P2P directory's NATS store (<see cref="NatsPeerDirectoryStore"/>) against a real nats-server, with two store
/// instances on one namespace standing for two Parley nodes: what one writes the other reads and replaces, the
/// per-user limit counts both nodes' entries, and NATS drops an entry nobody refreshed after the entry lifetime.
/// </summary>
public sealed class NatsDirectoryStoreTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Put_OnOneNode_ReadListedAndReplacedOnTheOther_StaleRevisionRefused()
    {
        var ns = NatsFixture.NewNamespace();
        await using var nodeA = await OpenAsync(ns, Lifetime);
        var directoryA = nodeA.Directory;
        await using var nodeB = await OpenAsync(ns, Lifetime);
        var directoryB = nodeB.Directory;
        var registered = Entry("alice", "phone", DateTimeOffset.UtcNow);

        Assert.True(await directoryA.TryPutAsync(registered, maxPerUser: 20));
        var onB = await directoryB.GetAsync("alice", "phone");
        Assert.NotNull(onB);
        AssertSame(registered, onB.Entry);
        AssertSame(registered, Assert.Single(await directoryB.ListAsync("alice")));
        Assert.Empty(await directoryB.ListAsync("bob"));

        var refreshed = registered with { LastSeen = registered.LastSeen.AddSeconds(30) };
        Assert.True(await directoryB.TryReplaceAsync(refreshed, onB.Revision));
        Assert.False(await directoryA.TryReplaceAsync(registered, onB.Revision)); // that revision is gone: no lost update
        AssertSame(refreshed, (await directoryA.GetAsync("alice", "phone"))!.Entry);
    }

    [Fact]
    public async Task PerUserLimit_CountsEveryNodesEntries_ReplacingAnEntryIsNotANewOne()
    {
        var ns = NatsFixture.NewNamespace();
        await using var nodeA = await OpenAsync(ns, Lifetime);
        var directoryA = nodeA.Directory;
        await using var nodeB = await OpenAsync(ns, Lifetime);
        var directoryB = nodeB.Directory;
        var now = DateTimeOffset.UtcNow;

        Assert.True(await directoryA.TryPutAsync(Entry("alice", "d1", now), maxPerUser: 2));
        Assert.True(await directoryB.TryPutAsync(Entry("alice", "d2", now), maxPerUser: 2));
        Assert.False(await directoryA.TryPutAsync(Entry("alice", "d3", now), maxPerUser: 2));
        Assert.True(await directoryA.TryPutAsync(Entry("alice", "d2", now.AddSeconds(1)), maxPerUser: 2));
        Assert.True(await directoryB.TryPutAsync(Entry("bob", "d1", now), maxPerUser: 2));

        Assert.Equal(["d1", "d2"], (await directoryB.ListAsync("alice")).Select(e => e.Device).Order());
    }

    [Fact]
    public async Task PerUserLimit_TwoNodesAddingAtOnce_NeverExceeded()
    {
        var ns = NatsFixture.NewNamespace();
        await using var nodeA = await OpenAsync(ns, Lifetime);
        var directoryA = nodeA.Directory;
        await using var nodeB = await OpenAsync(ns, Lifetime);
        var directoryB = nodeB.Directory;
        var now = DateTimeOffset.UtcNow;
        Assert.True(await directoryA.TryPutAsync(Entry("alice", "d0", now), maxPerUser: 2));

        for (var round = 0; round < 5; round++)
        {
            var onA = directoryA.TryPutAsync(Entry("alice", $"a{round}", now), maxPerUser: 2);
            var onB = directoryB.TryPutAsync(Entry("alice", $"b{round}", now), maxPerUser: 2);
            var added = (await onA ? 1 : 0) + (await onB ? 1 : 0);
            var listed = await directoryA.ListAsync("alice");
            Assert.True(listed.Count <= 2, $"round {round}: {listed.Count} entries");
            Assert.True(added <= 1, $"round {round}: both added");
            await directoryA.RemoveAsync("alice", $"a{round}");
            await directoryA.RemoveAsync("alice", $"b{round}");
        }
    }

    [Fact]
    public async Task Remove_OneDeviceOrAllOfAUser_FromTheOtherNode_AndCountIsClusterWide()
    {
        var ns = NatsFixture.NewNamespace();
        await using var nodeA = await OpenAsync(ns, Lifetime);
        var directoryA = nodeA.Directory;
        await using var nodeB = await OpenAsync(ns, Lifetime);
        var directoryB = nodeB.Directory;
        var now = DateTimeOffset.UtcNow;
        foreach (var device in new[] { "d1", "d2", "d3" })
        {
            Assert.True(await directoryA.TryPutAsync(Entry("alice", device, now), maxPerUser: 20));
        }

        Assert.True(await directoryA.TryPutAsync(Entry("bob", "d1", now), maxPerUser: 20));
        await directoryB.SweepAsync(now, Lifetime);
        Assert.Equal(4, directoryB.Count);

        await directoryB.RemoveAsync("alice", "d2");
        Assert.Null(await directoryA.GetAsync("alice", "d2"));
        Assert.Equal(["d1", "d3"], (await directoryA.ListAsync("alice")).Select(e => e.Device).Order());
        await directoryB.RemoveAsync("alice", device: null);
        Assert.Empty(await directoryA.ListAsync("alice"));
        Assert.Single(await directoryA.ListAsync("bob"));
        await directoryA.SweepAsync(now, Lifetime);
        Assert.Equal(1, directoryA.Count); // deletes leave no marker behind to count

        Assert.True(await directoryA.TryPutAsync(Entry("alice", "d2", now), maxPerUser: 1)); // a removed key can be registered again
    }

    [Fact]
    public async Task EntryNotRefreshed_DroppedByNatsAfterTheLifetime_RefreshedOneStays()
    {
        var ns = NatsFixture.NewNamespace();
        var lifetime = TimeSpan.FromSeconds(4); // room for a loaded machine between two refreshes 200 ms apart
        await using var nodeA = await OpenAsync(ns, lifetime);
        var directoryA = nodeA.Directory;
        await using var nodeB = await OpenAsync(ns, lifetime);
        var directoryB = nodeB.Directory;
        Assert.True(await directoryA.TryPutAsync(Entry("alice", "silent", DateTimeOffset.UtcNow), maxPerUser: 20));
        Assert.True(await directoryA.TryPutAsync(Entry("alice", "alive", DateTimeOffset.UtcNow), maxPerUser: 20));

        // Node B refreshes "alive" (a heartbeat) every 200 ms until NATS has dropped "silent".
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        while (await directoryB.GetAsync("alice", "silent", deadline.Token) is not null)
        {
            var alive = await directoryB.GetAsync("alice", "alive", deadline.Token);
            Assert.NotNull(alive);
            Assert.True(await directoryB.TryReplaceAsync(alive.Entry with { LastSeen = DateTimeOffset.UtcNow }, alive.Revision, deadline.Token));
            await Task.Delay(200, deadline.Token);
        }

        Assert.Equal(["alive"], (await directoryA.ListAsync("alice")).Select(e => e.Device));
    }

    [Fact]
    public async Task NodeWithAnotherEntryLifetime_RefusedWithTheSettingToFix()
    {
        var ns = NatsFixture.NewNamespace();
        await using var nodeA = await OpenAsync(ns, TimeSpan.FromSeconds(90));
        await using var nodeB = await NatsChatStore.OpenAsync(new NatsStoreOptions { Urls = [nats.Server.Url], Namespace = ns });

        var refused = await Assert.ThrowsAsync<NatsStoreException>(() => nodeB.OpenDirectoryAsync(TimeSpan.FromSeconds(60)));

        Assert.Contains("--directory-heartbeat-interval", refused.Message, StringComparison.Ordinal);
        Assert.Contains("90 s", refused.Message, StringComparison.Ordinal);
    }

    private static DirectoryEntry Entry(string user, string device, DateTimeOffset lastSeen) =>
        new(user, device, "10.0.0.7:7979", [.. Enumerable.Range(0, 32).Select(i => (byte)i)], [.. Enumerable.Range(0, 32).Select(i => (byte)(255 - i))],
            DateTimeOffset.FromUnixTimeMilliseconds(lastSeen.ToUnixTimeMilliseconds()));

    private static void AssertSame(DirectoryEntry expected, DirectoryEntry actual)
    {
        Assert.Equal((expected.User, expected.Device, expected.Endpoint, expected.LastSeen), (actual.User, actual.Device, actual.Endpoint, actual.LastSeen));
        Assert.Equal(expected.Fingerprint, actual.Fingerprint);
        Assert.Equal(expected.SecretHash, actual.SecretHash);
    }

    private async Task<Node> OpenAsync(string ns, TimeSpan lifetime)
    {
        var store = await NatsChatStore.OpenAsync(new NatsStoreOptions { Urls = [nats.Server.Url], Namespace = ns });
        return new Node(store, await store.OpenDirectoryAsync(lifetime));
    }

    /// <summary>One "node": its store (owns the connection) and its directory on it.</summary>
    private sealed record Node(NatsChatStore Store, NatsPeerDirectoryStore Directory) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Store.DisposeAsync();
    }
}
