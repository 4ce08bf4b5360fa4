using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>RECEIPT (protocol §5.8): the sender hears when a device of the recipient acknowledged its messages.</summary>
public sealed class DeliveryReceiptTests
{
    [Fact]
    public async Task Receipt_OfflineRecipientComesBackAndAcks_SenderToldUpToItsLastMessage()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (alice, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        await alice.SendAsync(MessageId.NewRandom(), bob, "one").WaitAsync(Events.Timeout);
        var second = await alice.SendAsync(MessageId.NewRandom(), bob, "two").WaitAsync(Events.Timeout);

        var (bobConnection, _) = await server.LoginAsync(bob);
        var (messages, head) = await bobConnection.SyncAllAsync(0);
        Assert.Equal(2, messages.Count);
        await bobConnection.AckAsync(head);

        var receipt = await alice.NextAsync<ReceiptEvent>();
        Assert.Equal(new ReceiptEvent(bob, second.Sequence), receipt);
    }

    [Fact]
    public async Task Receipt_PartialAckThenRest_TwoReceiptsInOrder()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (alice, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var first = await alice.SendAsync(MessageId.NewRandom(), bob, "one").WaitAsync(Events.Timeout);
        var second = await alice.SendAsync(MessageId.NewRandom(), bob, "two").WaitAsync(Events.Timeout);
        var (bobConnection, _) = await server.LoginAsync(bob);
        await bobConnection.SyncAllAsync(0);

        await bobConnection.AckAsync(1);
        Assert.Equal(first.Sequence, (await alice.NextAsync<ReceiptEvent>()).UpTo);
        await bobConnection.AckAsync(2);
        Assert.Equal(second.Sequence, (await alice.NextAsync<ReceiptEvent>()).UpTo);
    }

    [Fact]
    public async Task Receipt_SecondDeviceAcksWhatTheFirstHad_NoSecondReceipt()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var aliceName = UniqueNames.Next("alice");
        var (alice, _) = await server.RegisterAsync(aliceName);
        await alice.SyncAllAsync(0);
        await alice.SendAsync(MessageId.NewRandom(), bob, "one").WaitAsync(Events.Timeout);
        var (phone, _) = await server.LoginAsync(bob, "phone");
        await phone.SyncAllAsync(0);
        await phone.AckAsync(1);
        await alice.NextAsync<ReceiptEvent>();

        var (laptop, _) = await server.LoginAsync(bob, "laptop");
        await laptop.SyncAllAsync(0);
        await laptop.AckAsync(1);
        // Something that does come after the laptop's ACK: a message from bob. No receipt may come before it.
        await phone.SendAsync(MessageId.NewRandom(), aliceName, "marker").WaitAsync(Events.Timeout);
        var next = await alice.NextAsync<ServerEvent>(e => e is ReceiptEvent || e is MessageEvent { Message.Text: "marker" });

        Assert.IsType<MessageEvent>(next);
    }

    [Fact]
    public async Task Receipt_MessagesFromTwoSenders_EachSenderGetsOnlyItsOwn()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (alice, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var (carol, _) = await server.RegisterAsync(UniqueNames.Next("carol"));
        var fromAlice = await alice.SendAsync(MessageId.NewRandom(), bob, "from alice").WaitAsync(Events.Timeout);
        var fromCarol = await carol.SendAsync(MessageId.NewRandom(), bob, "from carol").WaitAsync(Events.Timeout);
        var (bobConnection, _) = await server.LoginAsync(bob);
        var (_, head) = await bobConnection.SyncAllAsync(0);

        await bobConnection.AckAsync(head);

        Assert.Equal(new ReceiptEvent(bob, fromAlice.Sequence), await alice.NextAsync<ReceiptEvent>());
        Assert.Equal(new ReceiptEvent(bob, fromCarol.Sequence), await carol.NextAsync<ReceiptEvent>());
    }
}
