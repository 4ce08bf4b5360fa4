using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>Messages to an offline user wait in their log and come back through SYNC (protocol §5.4).</summary>
public sealed class OfflineDeliveryTests
{
    [Trait("Security", "22")]
    [Fact]
    public async Task Sync_AfterMessagesWhileOffline_AllInOrderThenSyncedAndCatchUpFromAck()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(alice);
        var ids = new List<MessageId>();
        for (var i = 1; i <= 20; i++)
        {
            var id = MessageId.NewRandom();
            ids.Add(id);
            await aliceConnection.SendAsync(id, bob, $"m{i}").WaitAsync(Events.Timeout);
        }

        var (first, auth) = await server.LoginAsync(bob);
        var (messages, head) = await first.SyncAllAsync(0);

        Assert.Equal(20UL, auth.Head);
        Assert.Equal(20UL, head);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (ulong)i), messages.Select(m => m.Sequence));
        Assert.Equal(ids, messages.Select(m => m.Id));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"m{i}"), messages.Select(m => m.Text));
        Assert.All(messages, m => Assert.Equal((alice, bob), (m.From, m.To)));

        await first.AckAsync(10).WaitAsync(Events.Timeout);
        await first.DisposeAsync();

        var (second, _) = await server.LoginAsync(bob);
        var (rest, restHead) = await second.SyncAllAsync(10);

        Assert.Equal(Enumerable.Range(11, 10).Select(i => (ulong)i), rest.Select(m => m.Sequence));
        Assert.Equal(ids.Skip(10), rest.Select(m => m.Id));
        Assert.Equal(20UL, restHead);
    }

    [Trait("Security", "22")]
    [Fact]
    public async Task Sync_AfterAboveHead_TreatedAsHeadAndThenLive()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        await aliceConnection.SendAsync(MessageId.NewRandom(), bob, "old").WaitAsync(Events.Timeout);
        var (bobConnection, _) = await server.LoginAsync(bob);

        var (messages, head) = await bobConnection.SyncAllAsync(1000);
        var live = MessageId.NewRandom();
        await aliceConnection.SendAsync(live, bob, "new").WaitAsync(Events.Timeout);

        Assert.Empty(messages);
        Assert.Equal(1UL, head);
        var next = await bobConnection.NextMessageAsync();
        Assert.Equal((live, 2UL), (next.Id, next.Sequence));
    }

    [Trait("Security", "22")]
    [Fact]
    public async Task Sync_SentTwice_ProtocolErrorAndClosed()
    {
        await using var server = await TestServer.StartAsync();
        var (connection, _) = await server.RegisterAsync(UniqueNames.Next("bob"));
        await connection.SyncAllAsync(0);

        await connection.SyncAsync(0);

        Assert.Equal(ErrorCode.ProtocolError, (await connection.ClosedAsync()).Error?.Code);
    }

    [Trait("Security", "22")]
    [Fact]
    public async Task Deliver_BeforeSync_NothingPushed()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var (bobConnection, _) = await server.RegisterAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var early = MessageId.NewRandom();
        await aliceConnection.SendAsync(early, bob, "before sync").WaitAsync(Events.Timeout);

        // Had the server pushed it before SYNC, it would come before SYNCED and again as part of the catch-up.
        var (messages, head) = await bobConnection.SyncAllAsync(0);

        Assert.Equal([early], messages.Select(m => m.Id));
        Assert.Equal(1UL, head);
    }
}
