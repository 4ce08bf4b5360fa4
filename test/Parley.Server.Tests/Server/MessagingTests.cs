using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>SEND and live DELIVER between online users (security.md 8, 17, 20).</summary>
public sealed class MessagingTests
{
    [Trait("Security", "17")]
    [Fact]
    public async Task Send_ToOnlineUser_DeliveredWithSenderFromSessionAndSendOk()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var bob = UniqueNames.Next("bob");
        var (bobConnection, _) = await server.RegisterAsync(bob);
        await bobConnection.SyncAllAsync(0);
        var (aliceConnection, _) = await server.RegisterAsync(alice);
        var id = MessageId.NewRandom();

        var ok = await aliceConnection.SendAsync(id, bob, "hello bob").WaitAsync(Events.Timeout);
        var delivered = await bobConnection.NextMessageAsync();

        Assert.Equal(id, ok.Id);
        Assert.Equal(1UL, ok.Sequence);
        Assert.Equal((id, alice, bob, "hello bob"), (delivered.Id, delivered.From, delivered.To, delivered.Text));
        Assert.Equal(1UL, delivered.Sequence);
        Assert.Equal(ok.Time, delivered.Time);
    }

    [Fact]
    public async Task Send_ToMixedCaseRecipient_DeliveredToNormalisedUser()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var (bobConnection, _) = await server.RegisterAsync(bob);
        await bobConnection.SyncAllAsync(0);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));

        await aliceConnection.SendAsync(MessageId.NewRandom(), bob.ToUpperInvariant(), "hi").WaitAsync(Events.Timeout);

        Assert.Equal(bob, (await bobConnection.NextMessageAsync()).To);
    }

    [Trait("Security", "17")]
    [Fact]
    public async Task Deliver_FrameFromClientClaimingAnotherSender_RefusedAndNothingDelivered()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var mallory = UniqueNames.Next("mallory");
        var carol = UniqueNames.Next("carol");
        var (bobConnection, _) = await server.RegisterAsync(bob);
        await bobConnection.SyncAllAsync(0);
        var (malloryConnection, _) = await server.RegisterAsync(mallory);
        var (carolConnection, _) = await server.RegisterAsync(carol);

        // The only frame with a from field is DELIVER, which flows server to client: a client sending one is refused.
        await malloryConnection.WriteRawAsync(FrameCodec.Encode(new DeliverFrame(1, MessageId.NewRandom(), carol, bob, 0, "trust me, I am carol")));
        Assert.Equal(ErrorCode.ProtocolError, (await malloryConnection.ClosedAsync()).Error?.Code);

        var marker = MessageId.NewRandom();
        await carolConnection.SendAsync(marker, bob, "the real carol").WaitAsync(Events.Timeout);
        var first = await bobConnection.NextMessageAsync();
        Assert.Equal((marker, carol), (first.Id, first.From));
    }

    [Trait("Security", "20")]
    [Fact]
    public async Task Send_RetriedWithSameIdAndContent_IdenticalSendOkAndOneCopy()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var (bobConnection, _) = await server.RegisterAsync(bob);
        await bobConnection.SyncAllAsync(0);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var id = MessageId.NewRandom();

        var first = await aliceConnection.SendAsync(id, bob, "only once").WaitAsync(Events.Timeout);
        var retry = await aliceConnection.SendAsync(id, bob, "only once").WaitAsync(Events.Timeout);
        var marker = MessageId.NewRandom();
        await aliceConnection.SendAsync(marker, bob, "next").WaitAsync(Events.Timeout);

        Assert.Equal(first, retry);
        Assert.Equal(id, (await bobConnection.NextMessageAsync()).Id);
        Assert.Equal(marker, (await bobConnection.NextMessageAsync()).Id);
        Assert.Single(await server.Store.ReadLogAsync(bob, 0, 100), e => e.Id == id);
    }

    [Trait("Security", "20")]
    [Fact]
    public async Task Send_RetriedOnANewConnection_IdenticalSendOk()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (first, _) = await server.RegisterAsync(alice);
        var id = MessageId.NewRandom();
        var original = await first.SendAsync(id, bob, "lost ack?").WaitAsync(Events.Timeout);
        await first.DisposeAsync();

        var (second, _) = await server.LoginAsync(alice, "laptop");
        var retry = await second.SendAsync(id, bob, "lost ack?").WaitAsync(Events.Timeout);

        Assert.Equal(original, retry);
        Assert.Single(await server.Store.ReadLogAsync(bob, 0, 100));
    }

    [Fact]
    public async Task Send_SameIdDifferentText_IdReusedAndNothingStored()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var id = MessageId.NewRandom();
        await aliceConnection.SendAsync(id, bob, "original").WaitAsync(Events.Timeout);

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => aliceConnection.SendAsync(id, bob, "edited").WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.IdReused, error.Code);
        Assert.Equal(["original"], (await server.Store.ReadLogAsync(bob, 0, 100)).Select(e => e.Text));
        Assert.True((await aliceConnection.SendAsync(MessageId.NewRandom(), bob, "still open").WaitAsync(Events.Timeout)).Sequence > 0);
    }

    [Fact]
    public async Task Send_ToUnknownUser_UnknownUserAndConnectionStaysOpen()
    {
        await using var server = await TestServer.StartAsync();
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() =>
            aliceConnection.SendAsync(MessageId.NewRandom(), UniqueNames.Next("nobody"), "anyone?").WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.UnknownUser, error.Code);
        Assert.True((await aliceConnection.SendAsync(MessageId.NewRandom(), "echo", "still open").WaitAsync(Events.Timeout)).Sequence > 0);
    }

    [Fact]
    public async Task Send_ToInvalidName_BadIdAndConnectionStaysOpen()
    {
        await using var server = await TestServer.StartAsync();
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() =>
            aliceConnection.SendAsync(MessageId.NewRandom(), "not a name!", "hi").WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.BadId, error.Code);
        Assert.True((await aliceConnection.SendAsync(MessageId.NewRandom(), "echo", "still open").WaitAsync(Events.Timeout)).Sequence > 0);
    }

    [Theory]
    [InlineData('a', 65_537)]
    [InlineData('\u00e9', 32_769)] // 65,538 UTF-8 bytes in fewer than 65,536 characters
    public async Task Send_TextOver64KiB_TextTooLongAndConnectionStaysUsable(char character, int count)
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() =>
            aliceConnection.SendAsync(MessageId.NewRandom(), bob, new string(character, count)).WaitAsync(Events.Timeout));
        var next = await aliceConnection.SendAsync(MessageId.NewRandom(), bob, "short").WaitAsync(Events.Timeout);

        Assert.Equal(ErrorCode.TextTooLong, error.Code);
        Assert.Equal(1UL, next.Sequence);
        Assert.Equal(["short"], (await server.Store.ReadLogAsync(bob, 0, 100)).Select(e => e.Text));
    }

    [Fact]
    public async Task Send_TextOfExactly64KiB_Accepted()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));

        var ok = await aliceConnection.SendAsync(MessageId.NewRandom(), bob, new string('a', 65_536)).WaitAsync(Events.Timeout);

        Assert.Equal(1UL, ok.Sequence);
    }

    [Fact]
    public async Task Send_ToEcho_ReplyWithUpperCasedTextArrives()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var (aliceConnection, _) = await server.RegisterAsync(alice);
        await aliceConnection.SyncAllAsync(0);
        var id = MessageId.NewRandom();

        var ok = await aliceConnection.SendAsync(id, "echo", "Hello, Echo ß").WaitAsync(Events.Timeout);
        var own = await aliceConnection.NextMessageAsync();
        var reply = await aliceConnection.NextMessageAsync();

        Assert.Equal((id, alice, "echo", ok.Sequence), (own.Id, own.From, own.To, own.Sequence));
        Assert.Equal(("echo", alice, "HELLO, ECHO ß"), (reply.From, reply.To, reply.Text));
        Assert.NotEqual(id, reply.Id);
        Assert.Equal(ok.Sequence + 1, reply.Sequence);
    }

    [Fact]
    public async Task Send_SendersOtherDevice_ReceivesTheSendersCopy()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (phone, _) = await server.RegisterAsync(alice, "phone");
        var (laptop, _) = await server.LoginAsync(alice, "laptop");
        await laptop.SyncAllAsync(0);
        var id = MessageId.NewRandom();

        var ok = await phone.SendAsync(id, bob, "from my phone").WaitAsync(Events.Timeout);
        var copy = await laptop.NextMessageAsync();

        Assert.Equal((id, alice, bob, ok.Sequence), (copy.Id, copy.From, copy.To, copy.Sequence));
    }

    /// <summary>
    /// A live session's entries take one of two ways (Session): queued at the commit when the session is idle and its
    /// connection has a delivery credit free, or through the delivery loop otherwise. With one credit per connection,
    /// concurrent bursts keep switching between the two; every message still arrives once, in sequence order, no gap.
    /// </summary>
    [Fact]
    public async Task Deliver_ConcurrentBurstsWithOneDeliveryCredit_EveryMessageOnceInSequenceOrder()
    {
        const int Senders = 3;
        const int PerSender = 100;
        await using var server = await TestServer.StartAsync(new ServerOptions { MaxQueuedDeliveriesPerConnection = 1, RateLimitFramesPerSecond = 0 });
        var bob = UniqueNames.Next("bob");
        var (bobConnection, _) = await server.RegisterAsync(bob);
        await bobConnection.SyncAllAsync(0);
        var senders = new List<ParleyConnection>();
        for (var s = 0; s < Senders; s++)
        {
            senders.Add((await server.RegisterAsync(UniqueNames.Next($"s{s}"))).Connection);
        }

        // Every sender fires all its messages without waiting for SEND_OK, so commits carry several at once.
        var sending = Task.WhenAll(senders.SelectMany((sender, s) => Enumerable.Range(0, PerSender)
            .Select(k => sender.SendAsync(MessageId.NewRandom(), bob, $"{s}:{k}"))));
        var received = new List<DeliverFrame>();
        while (received.Count < Senders * PerSender)
        {
            var message = await bobConnection.NextMessageAsync();
            received.Add(message);
            if (received.Count % 25 == 0)
            {
                await bobConnection.AckAsync(message.Sequence).WaitAsync(Events.Timeout);
            }
        }

        var oks = await sending.WaitAsync(Events.Timeout);
        Assert.Equal(Enumerable.Range(1, Senders * PerSender).Select(i => (ulong)i), received.Select(m => m.Sequence));
        var sent = oks.Select(ok => ok.Id).ToHashSet();
        Assert.Equal(Senders * PerSender, received.Select(m => m.Id).Distinct().Count());
        Assert.All(received, m => Assert.Contains(m.Id, sent));
        for (var s = 0; s < Senders; s++)
        {
            // Each sender's messages keep the order they were sent in.
            Assert.Equal(Enumerable.Range(0, PerSender).Select(k => $"{s}:{k}"), received.Select(m => m.Text).Where(t => t.StartsWith($"{s}:", StringComparison.Ordinal)));
        }
    }
}
