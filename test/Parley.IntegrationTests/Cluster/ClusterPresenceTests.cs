using Parley.Client;

namespace Parley.IntegrationTests.Cluster;

/// <summary>Presence and `who` are cluster-wide: users on the other node are listed, and their comings and goings pushed.</summary>
public sealed class ClusterPresenceTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task UserOnOtherNode_ListedByWho_AndPushedOnlineThenOffline()
    {
        await using var cluster = await ClusterNodes.StartAsync(nats.Server.Url, 2);
        await using var alice = await cluster.LoginAsync("alice", "a1", register: true, 0);
        await alice.WatchAsync(["bob"]);
        Assert.Equal(new PresenceEvent("bob", false), await LibraryClient.NextEventAsync<PresenceEvent>(alice));
        var bob = await cluster.LoginAsync("bob", "b1", register: true, 1);

        Assert.Equal(new PresenceEvent("bob", true), await LibraryClient.NextEventAsync<PresenceEvent>(alice));
        var who = await WaitForWhoAsync(bob, "alice");
        Assert.Contains(who, u => u.User == "alice" && u.Devices == 1);
        Assert.Contains(who, u => u.User == "bob");

        await bob.DisposeAsync();
        Assert.Equal(new PresenceEvent("bob", false), await LibraryClient.NextEventAsync<PresenceEvent>(alice));
    }

    /// <summary>Presence reaches the other node within a heartbeat; poll WHO until it shows, within a deadline.</summary>
    private static async Task<IReadOnlyList<Protocol.Frames.OnlineUser>> WaitForWhoAsync(ParleyConnection connection, string user)
    {
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        while (true)
        {
            var who = await connection.WhoAsync(deadline.Token);
            if (who.Any(u => u.User == user))
            {
                return who;
            }

            await Task.Delay(100, deadline.Token);
        }
    }
}
