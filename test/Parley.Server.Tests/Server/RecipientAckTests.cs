using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 22: acknowledgements by the recipient, and redelivery of what it did not acknowledge.</summary>
public sealed class RecipientAckTests
{
    [Trait("Security", "22")]
    [Fact]
    public async Task Ack_AboveLastDeliveredSequence_ProtocolErrorAndClosed()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        await aliceConnection.SendAsync(MessageId.NewRandom(), bob, "one").WaitAsync(Events.Timeout);
        await aliceConnection.SendAsync(MessageId.NewRandom(), bob, "two").WaitAsync(Events.Timeout);
        var (bobConnection, _) = await server.LoginAsync(bob);
        var (messages, _) = await bobConnection.SyncAllAsync(0);
        Assert.Equal(2, messages.Count);

        await bobConnection.AckAsync(2 + 5);

        Assert.Equal(ErrorCode.ProtocolError, (await bobConnection.ClosedAsync()).Error?.Code);
    }

    [Trait("Security", "22")]
    [Fact]
    public async Task Ack_UpToLastDelivered_AcceptedAndConnectionStaysOpen()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        await aliceConnection.SendAsync(MessageId.NewRandom(), bob, "one").WaitAsync(Events.Timeout);
        var (bobConnection, _) = await server.LoginAsync(bob);
        await bobConnection.SyncAllAsync(0);

        await bobConnection.AckAsync(1);

        Assert.NotNull(await bobConnection.WhoAsync().WaitAsync(Events.Timeout));
    }

    [Trait("Security", "22")]
    [Fact]
    public async Task Ack_BeforeAnyDeliver_OnlyZeroAllowed()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        await aliceConnection.SendAsync(MessageId.NewRandom(), bob, "not yet synced").WaitAsync(Events.Timeout);
        var (bobConnection, _) = await server.LoginAsync(bob);

        await bobConnection.AckAsync(0);
        Assert.NotNull(await bobConnection.WhoAsync().WaitAsync(Events.Timeout));
        await bobConnection.AckAsync(1);

        Assert.Equal(ErrorCode.ProtocolError, (await bobConnection.ClosedAsync()).Error?.Code);
    }

    [Trait("Security", "22")]
    [Fact]
    public async Task Reconnect_AfterReceivingWithoutAck_SameMessagesRedelivered()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var alice = UniqueNames.Next("alice");
        var (bobFirst, _) = await server.RegisterAsync(bob);
        await bobFirst.SyncAllAsync(0);
        var (aliceConnection, _) = await server.RegisterAsync(alice);
        var sent = new List<MessageId>();
        for (var i = 0; i < 10; i++)
        {
            var id = MessageId.NewRandom();
            sent.Add(id);
            await aliceConnection.SendAsync(id, bob, $"m{i}").WaitAsync(Events.Timeout);
        }

        var received = new List<MessageId>();
        for (var i = 0; i < 10; i++)
        {
            received.Add((await bobFirst.NextMessageAsync()).Id);
        }

        await bobFirst.DisposeAsync(); // dropped before any ACK

        var (bobSecond, _) = await server.LoginAsync(bob);
        var (again, _) = await bobSecond.SyncAllAsync(0);

        Assert.Equal(sent, received);
        Assert.Equal(sent, again.Select(m => m.Id));
        Assert.All(again, m => Assert.Equal(alice, m.From));
    }

    [Trait("Security", "22")]
    [Fact]
    public async Task Ack_Sent_CursorSavedForTheDevice()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        for (var i = 0; i < 3; i++)
        {
            await aliceConnection.SendAsync(MessageId.NewRandom(), bob, $"m{i}").WaitAsync(Events.Timeout);
        }

        var (bobConnection, _) = await server.LoginAsync(bob, "tablet");
        await bobConnection.SyncAllAsync(0);
        await bobConnection.AckAsync(2);
        await bobConnection.LogoutAsync();

        // LOGOUT is handled after the ACK on the same connection; the cursor write was queued before the token revocation.
        Assert.Equal(2UL, await server.Store.GetCursorAsync(bob, "tablet"));
    }
}
