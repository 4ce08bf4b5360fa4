using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>WATCH, PRESENCE pushes and WHO (protocol §5.6).</summary>
public sealed class PresenceTests
{
    [Fact]
    public async Task Presence_WatchedUserComesAndGoes_WatcherToldOfflineOnlineOffline()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var carol = UniqueNames.Next("carol");
        var (daveConnection, _) = await server.RegisterAsync(dave);
        await server.CreateOfflineUserAsync(carol);

        await daveConnection.WatchAsync([carol]);
        var now = await daveConnection.NextAsync<PresenceEvent>();
        var (carolConnection, _) = await server.LoginAsync(carol);
        var online = await daveConnection.NextAsync<PresenceEvent>();
        await carolConnection.DisposeAsync();
        var offline = await daveConnection.NextAsync<PresenceEvent>();

        Assert.Equal(new PresenceEvent(carol, false), now);
        Assert.Equal(new PresenceEvent(carol, true), online);
        Assert.Equal(new PresenceEvent(carol, false), offline);
    }

    [Fact]
    public async Task Watch_UserAlreadyOnline_AnsweredOnlineAtOnce()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var carol = UniqueNames.Next("carol");
        var (daveConnection, _) = await server.RegisterAsync(dave);
        await server.RegisterAsync(carol);

        await daveConnection.WatchAsync([carol]);

        Assert.Equal(new PresenceEvent(carol, true), await daveConnection.NextAsync<PresenceEvent>());
    }

    [Fact]
    public async Task Presence_UserNotWatched_NotPushed()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var carol = UniqueNames.Next("carol");
        var erin = UniqueNames.Next("erin");
        var (daveConnection, _) = await server.RegisterAsync(dave);
        var (carolConnection, _) = await server.RegisterAsync(carol);
        await carolConnection.DisposeAsync();

        // Frames reach dave in order: had carol's comings and goings been pushed, they would come before erin's answer.
        await daveConnection.WatchAsync([erin]);

        Assert.Equal(new PresenceEvent(erin, false), await daveConnection.NextAsync<PresenceEvent>());
    }

    [Fact]
    public async Task Watch_Removed_NoLongerPushed()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var carol = UniqueNames.Next("carol");
        var erin = UniqueNames.Next("erin");
        var (daveConnection, _) = await server.RegisterAsync(dave);
        await server.CreateOfflineUserAsync(carol);
        await daveConnection.WatchAsync([carol]);
        Assert.Equal(new PresenceEvent(carol, false), await daveConnection.NextAsync<PresenceEvent>());

        await daveConnection.WatchAsync([carol], add: false);
        await server.LoginAsync(carol);
        await daveConnection.WatchAsync([erin]);

        Assert.Equal(new PresenceEvent(erin, false), await daveConnection.NextAsync<PresenceEvent>());
    }

    [Fact]
    public async Task Presence_SecondDeviceComesAndGoes_NotPushed()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var carol = UniqueNames.Next("carol");
        var (daveConnection, _) = await server.RegisterAsync(dave);
        var (carolPhone, _) = await server.RegisterAsync(carol, "phone");
        await daveConnection.WatchAsync([carol]);
        Assert.Equal(new PresenceEvent(carol, true), await daveConnection.NextAsync<PresenceEvent>());

        var (carolLaptop, _) = await server.LoginAsync(carol, "laptop");
        await carolLaptop.DisposeAsync();
        await carolPhone.DisposeAsync();

        // Frames reach dave in order: had the second device been announced, it would come first.
        Assert.Equal(new PresenceEvent(carol, false), await daveConnection.NextAsync<PresenceEvent>());
    }

    [Fact]
    public async Task Watch_OverTheLimit_RefusedAndNothingAdded()
    {
        await using var server = await TestServer.StartAsync(new ServerOptions { MaxWatchedUsers = 2 });
        var dave = UniqueNames.Next("dave");
        var (daveConnection, _) = await server.RegisterAsync(dave);
        string[] three = [UniqueNames.Next("a"), UniqueNames.Next("b"), UniqueNames.Next("c")];

        await daveConnection.WatchAsync(three);
        var refused = await daveConnection.NextAsync<RefusedEvent>();
        await daveConnection.WatchAsync(three[..2]);
        var first = await daveConnection.NextAsync<PresenceEvent>();

        Assert.Equal(ErrorCode.TooManyWatched, refused.Code);
        Assert.Contains("at most 2", refused.Message, StringComparison.Ordinal);
        Assert.Equal(new PresenceEvent(three[0], false), first); // nothing of the refused WATCH was answered
        Assert.Equal(new PresenceEvent(three[1], false), await daveConnection.NextAsync<PresenceEvent>());
    }

    [Fact]
    public async Task Watch_BadName_RefusedWithBadIdAndConnectionStaysOpen()
    {
        await using var server = await TestServer.StartAsync();
        var dave = UniqueNames.Next("dave");
        var (daveConnection, _) = await server.RegisterAsync(dave);

        await daveConnection.WriteRawAsync(FrameCodec.Encode(new WatchFrame(true, ["no spaces allowed"])));
        var refused = await daveConnection.NextAsync<RefusedEvent>();
        var users = await daveConnection.WhoAsync().WaitAsync(Events.Timeout);

        Assert.Equal(ErrorCode.BadId, refused.Code);
        Assert.Contains(users, u => u.User == dave);
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
        await daveConnection.WatchAsync([carol]);
        await daveConnection.NextAsync<PresenceEvent>(p => p.User == carol && p.Online);

        await carolConnection.DisposeAsync();
        await daveConnection.NextAsync<PresenceEvent>(p => p.User == carol && !p.Online);
        var users = await daveConnection.WhoAsync().WaitAsync(Events.Timeout);

        Assert.Equal([new OnlineUser(dave, 1)], users);
    }
}
