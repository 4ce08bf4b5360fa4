using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 18: every device of a user receives; a second login of one device replaces the first.</summary>
public sealed class MultiDeviceTests
{
    [Trait("Security", "18")]
    [Fact]
    public async Task Send_ToUserWithTwoDevices_BothReceiveTheSameEntry()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var (phone, _) = await server.RegisterAsync(bob, "phone");
        var (laptop, _) = await server.LoginAsync(bob, "laptop");
        await phone.SyncAllAsync(0);
        await laptop.SyncAllAsync(0);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var id = MessageId.NewRandom();

        await aliceConnection.SendAsync(id, bob, "to all my devices").WaitAsync(Events.Timeout);
        var onPhone = await phone.NextMessageAsync();
        var onLaptop = await laptop.NextMessageAsync();

        Assert.Equal(onPhone, onLaptop);
        Assert.Equal(id, onPhone.Id);
    }

    [Trait("Security", "18")]
    [Fact]
    public async Task Login_SameDeviceAgain_OldSessionConflictAndUnackedMessagesReachTheNewOne()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var (laptop, _) = await server.RegisterAsync(bob, "laptop");
        var (oldPhone, _) = await server.LoginAsync(bob, "phone");
        await laptop.SyncAllAsync(0);
        await oldPhone.SyncAllAsync(0);
        var (aliceConnection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var sent = new List<MessageId>();
        for (var i = 0; i < 7; i++)
        {
            var id = MessageId.NewRandom();
            sent.Add(id);
            await aliceConnection.SendAsync(id, bob, $"m{i}").WaitAsync(Events.Timeout);
        }

        var seenOnOldPhone = new List<(ulong Sequence, MessageId Id)>();
        for (var i = 0; i < 7; i++)
        {
            var message = await oldPhone.NextMessageAsync();
            seenOnOldPhone.Add((message.Sequence, message.Id));
        }

        var acknowledged = seenOnOldPhone[1].Sequence;
        await oldPhone.AckAsync(acknowledged); // 2 of 7 acknowledged, 5 not

        var (newPhone, _) = await server.LoginAsync(bob, "phone");
        var closed = await oldPhone.ClosedAsync();
        var (redelivered, _) = await newPhone.SyncAllAsync(acknowledged);

        Assert.Equal(ErrorCode.Conflict, closed.Error?.Code);
        Assert.Equal(sent.Skip(2), redelivered.Select(m => m.Id));
        Assert.Equal(sent, seenOnOldPhone.Select(m => m.Id).Concat(redelivered.Select(m => m.Id)).Distinct());

        // The other device was not touched.
        var later = MessageId.NewRandom();
        await aliceConnection.SendAsync(later, bob, "still here").WaitAsync(Events.Timeout);
        for (var i = 0; i < 7; i++)
        {
            await laptop.NextMessageAsync();
        }

        Assert.Equal(later, (await laptop.NextMessageAsync()).Id);
        Assert.Equal(later, (await newPhone.NextMessageAsync()).Id);
    }

    [Trait("Security", "12")]
    [Trait("Security", "18")]
    [Fact]
    public async Task Login_DeviceBeyondMaxDevicesPerUser_TooManySessionsAndClosed()
    {
        await using var server = await TestServer.StartAsync(new ServerOptions { MaxDevicesPerUser = 2 });
        var bob = UniqueNames.Next("bob");
        await server.RegisterAsync(bob, "d1");
        await server.LoginAsync(bob, "d2");
        var third = await server.ConnectAsync();

        var error = await Assert.ThrowsAsync<Parley.Client.ParleyErrorException>(() => third.LoginAsync(bob, TestServer.Password, "d3"));

        Assert.Equal(ErrorCode.TooManySessions, error.Code);
        await third.ClosedAsync();
    }

    [Trait("Security", "18")]
    [Trait("Security", "19")]
    [Fact]
    public async Task Resume_DeviceBeyondMaxDevicesPerUser_RefusedAndItsTokenStillResumesOnceAnotherLeaves()
    {
        await using var server = await TestServer.StartAsync(new ServerOptions { MaxDevicesPerUser = 2 });
        var bob = UniqueNames.Next("bob");
        var (tablet, registered) = await server.RegisterAsync(bob, "tablet");
        await tablet.DisposeAsync();
        await server.WaitForServerConnectionsAsync();
        var (phone, _) = await server.LoginAsync(bob, "phone");
        var (laptop, _) = await server.LoginAsync(bob, "laptop");

        var refused = await server.ConnectAsync();
        var error = await Assert.ThrowsAsync<Parley.Client.ParleyErrorException>(() => refused.ResumeAsync(bob, registered.Token, "tablet"));
        await refused.ClosedAsync();
        await phone.DisposeAsync();
        await laptop.DisposeAsync();
        await server.WaitForServerConnectionsAsync();
        var again = await server.ConnectAsync();
        var resumed = await again.ResumeAsync(bob, registered.Token, "tablet").WaitAsync(Events.Timeout);

        Assert.Equal(ErrorCode.TooManySessions, error.Code);
        Assert.Equal((bob, "tablet"), (resumed.User, resumed.Device));
        Assert.NotEqual(registered.Token, resumed.Token);
    }
}
