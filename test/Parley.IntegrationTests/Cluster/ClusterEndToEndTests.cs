using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.IntegrationTests.Cluster;

/// <summary>Two Parley nodes on one NATS server: any client on any node reaches any user, live and after being offline.</summary>
public sealed class ClusterEndToEndTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task LiveMessage_FromNodeA_ReachesDevicesOnBothNodes()
    {
        await using var cluster = await ClusterNodes.StartAsync(nats.Server.Url, 2);
        await using var alice = await cluster.LoginAsync("alice", "a1", register: true, 0);
        await using var bobOnB = await cluster.LoginAsync("bob", "phone", register: true, 1);
        await using var bobOnA = await cluster.LoginAsync("bob", "laptop", register: false, 0);
        Assert.Empty(await LibraryClient.CatchUpAsync(bobOnB));
        Assert.Empty(await LibraryClient.CatchUpAsync(bobOnA));

        var id = MessageId.NewRandom();
        var ok = await alice.SendAsync(id, "bob", "hello from node A");

        var onB = await NextMessageAsync(bobOnB);
        var onA = await NextMessageAsync(bobOnA);
        Assert.Equal((id, "alice", "hello from node A"), (onB.Id, onB.From, onB.Text));
        Assert.Equal(onB.Sequence, onA.Sequence);
        Assert.True(ok.Sequence > 0);
    }

    [Fact]
    public async Task OfflineRecipient_CatchesUpOnTheOtherNode_ThroughTheCli()
    {
        await using var cluster = await ClusterNodes.StartAsync(nats.Server.Url, 2);
        using var homes = new TempDirectory();
        await Accounts.RegisterAsync(cluster.Nodes[0], homes.Sub("alice"), "alice");
        await Accounts.RegisterAsync(cluster.Nodes[1], homes.Sub("bob"), "bob");
        for (var i = 1; i <= 3; i++)
        {
            var sent = await Parley.As(homes.Sub("alice"), null, "send", "bob", $"message {i}");
            Assert.True(sent.ExitCode == 0, sent.ToString());
        }

        var listen = await Parley.As(homes.Sub("bob"), null, "listen");
        Assert.True(listen.ExitCode == 0, listen.ToString());
        Assert.Equal(["message 1", "message 2", "message 3"],
            listen.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[(line.LastIndexOf(": ", StringComparison.Ordinal) + 2)..]));
        var again = await Parley.As(homes.Sub("bob"), null, "listen");
        Assert.Equal(string.Empty, again.Stdout.Trim());

        var echo = await Parley.As(homes.Sub("bob"), null, "send", "echo", "anyone there");
        Assert.Equal(0, echo.ExitCode);
        var reply = await Parley.As(homes.Sub("bob"), null, "listen");
        Assert.Contains("echo -> bob: ANYONE THERE", reply.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeKilled_ClientReconnectsToTheOtherNode_AndCatchesUpFromItsCursor()
    {
        await using var cluster = await ClusterNodes.StartAsync(nats.Server.Url, 2);
        await using (var register = await cluster.LoginAsync("carol", "c1", register: true, 0))
        {
        }

        await using var dave = await cluster.LoginAsync("dave", "d1", register: true, 1);
        var bob = await cluster.LoginAsync("carol", "c1", register: false, 0);
        Assert.Empty(await LibraryClient.CatchUpAsync(bob));
        await dave.SendAsync(MessageId.NewRandom(), "carol", "before");
        var first = await NextMessageAsync(bob);
        await bob.AckAsync(first.Sequence);

        await cluster.Nodes[0].KillAsync();
        await bob.DisposeAsync();
        var ids = new List<MessageId>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(MessageId.NewRandom());
            await dave.SendAsync(ids[^1], "carol", $"while away {i}");
        }

        await using var again = await cluster.LoginAsync("carol", "c1", register: false, 0, 1);
        var caughtUp = await LibraryClient.CatchUpAsync(again, first.Sequence);
        Assert.Equal(ids, caughtUp.Select(m => m.Id));
    }

    [Fact]
    public async Task Cli_WithAListOfServers_FailsOverWhenItsNodeDies()
    {
        await using var cluster = await ClusterNodes.StartAsync(nats.Server.Url, 2);
        using var homes = new TempDirectory();
        var both = $"{cluster.Nodes[0].Address},{cluster.Nodes[1].Address}";
        var alice = await Parley.As(homes.Sub("alice"), Accounts.Password + "\n", "register", "--server", both, "--user", "alice", "--password-stdin", "--accept-new-server-key");
        Assert.True(alice.ExitCode == 0, alice.ToString());
        await Accounts.RegisterAsync(cluster.Nodes[1], homes.Sub("bob"), "bob");

        await cluster.Nodes[0].KillAsync();
        var sent = await Parley.As(homes.Sub("alice"), null, "send", "bob", "via the other node");
        Assert.True(sent.ExitCode == 0, sent.ToString());
        var listen = await Parley.As(homes.Sub("bob"), null, "listen");
        Assert.Contains("alice -> bob: via the other node", listen.Stdout, StringComparison.Ordinal);
    }

    private static async Task<DeliverFrame> NextMessageAsync(ParleyConnection connection) =>
        (await LibraryClient.NextEventAsync<MessageEvent>(connection)).Message;
}
