using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>PRESENCE pushes and WHO (protocol §5.6).</summary>
public sealed class PresenceTests
{
    [Fact]
    public async Task Presence_UserComesAndGoes_OtherUsersToldOnlineThenOffline()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var carol = UniqueNames.Next("carol");
        var (daveConnection, _) = await server.RegisterAsync(dave);

        var (carolConnection, _) = await server.RegisterAsync(carol);
        var online = await daveConnection.NextAsync<PresenceEvent>();
        await carolConnection.DisposeAsync();
        var offline = await daveConnection.NextAsync<PresenceEvent>();

        Assert.Equal(new PresenceEvent(carol, true), online);
        Assert.Equal(new PresenceEvent(carol, false), offline);
    }

    [Fact]
    public async Task Presence_SecondDeviceComesAndGoes_NotPushed()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var carol = UniqueNames.Next("carol");
        var (daveConnection, _) = await server.RegisterAsync(dave);
        var (carolPhone, _) = await server.RegisterAsync(carol, "phone");
        Assert.Equal(new PresenceEvent(carol, true), await daveConnection.NextAsync<PresenceEvent>());

        var (carolLaptop, _) = await server.LoginAsync(carol, "laptop");
        await carolLaptop.DisposeAsync();
        await carolPhone.DisposeAsync();

        // Frames reach dave in order: had the second device been announced, it would come first.
        Assert.Equal(new PresenceEvent(carol, false), await daveConnection.NextAsync<PresenceEvent>());
    }

    [Fact]
    public async Task Who_SeveralUsersOnline_ListedInNameOrderWithDeviceCounts()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var carol = UniqueNames.Next("carol");
        var (daveConnection, _) = await server.RegisterAsync(dave);
        await server.RegisterAsync(carol, "phone");
        await server.LoginAsync(carol, "laptop");

        var users = await daveConnection.WhoAsync().WaitAsync(Events.Timeout);

        Assert.Equal([new OnlineUser(carol, 2), new OnlineUser(dave, 1)], users);
    }

    [Fact]
    public async Task Who_AfterUserLeft_NoLongerListed()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var carol = UniqueNames.Next("carol");
        var (daveConnection, _) = await server.RegisterAsync(dave);
        var (carolConnection, _) = await server.RegisterAsync(carol);
        await daveConnection.NextAsync<PresenceEvent>(p => p.User == carol && p.Online);

        await carolConnection.DisposeAsync();
        await daveConnection.NextAsync<PresenceEvent>(p => p.User == carol && !p.Online);
        var users = await daveConnection.WhoAsync().WaitAsync(Events.Timeout);

        Assert.Equal([new OnlineUser(dave, 1)], users);
    }
}
