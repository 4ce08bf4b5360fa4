using Microsoft.Extensions.Time.Testing;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.P2P;

/// <summary>
/// The P2P directory (docs/p2p.md, security.md 25): register only your own device, lookups only when logged in,
/// heartbeats with the entry's secret and the count of what waits on the server, expiry after missed heartbeats.
/// Time is a <see cref="FakeTimeProvider"/>, so expiry is exact and the tests take no real time.
/// </summary>
public sealed class DirectoryTests
{
    private static readonly byte[] AliceKey = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    [Trait("Security", "25")]
    [Fact]
    public async Task Register_ThenLookupByAnotherLoggedInUser_ReturnsEndpointAndFingerprint()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = (UniqueNames.Next("alice"), UniqueNames.Next("bob"));
        var (aliceConnection, _) = await server.RegisterAsync(alice, "phone", address: "10.0.0.7");
        var (bobConnection, _) = await server.RegisterAsync(bob, "laptop");

        var registered = await aliceConnection.RegisterInDirectoryAsync(alice, "phone", "0.0.0.0:7979", AliceKey).WaitAsync(Events.Timeout);
        var peers = await bobConnection.LookupAsync(alice).WaitAsync(Events.Timeout);

        Assert.Equal(32, registered.Secret.Length);
        Assert.Equal(30_000u, registered.IntervalMs);
        Assert.Equal(90_000u, registered.TimeoutMs);
        var entry = Assert.Single(peers.Entries);
        Assert.Equal(("phone", "10.0.0.7:7979"), (entry.Device, entry.Endpoint)); // 0.0.0.0 becomes the address seen
        Assert.Equal(AliceKey, entry.Fingerprint);
    }

    [Trait("Security", "25")]
    [Fact]
    public async Task Register_ForAnotherUserOrDevice_NotYourDeviceAndNothingListed()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, mallory) = (UniqueNames.Next("alice"), UniqueNames.Next("mallory"));
        var (aliceConnection, _) = await server.RegisterAsync(alice, "phone");
        var (malloryConnection, _) = await server.RegisterAsync(mallory, "phone");

        var otherUser = await Assert.ThrowsAsync<ParleyErrorException>(
            () => malloryConnection.RegisterInDirectoryAsync(alice, "phone", "10.6.6.6:7979", AliceKey));
        var otherDevice = await Assert.ThrowsAsync<ParleyErrorException>(
            () => malloryConnection.RegisterInDirectoryAsync(mallory, "laptop", "10.6.6.6:7979", AliceKey));

        Assert.Equal(ErrorCode.NotYourDevice, otherUser.Code);
        Assert.Equal(ErrorCode.NotYourDevice, otherDevice.Code);
        Assert.Empty((await aliceConnection.LookupAsync(alice).WaitAsync(Events.Timeout)).Entries);
        Assert.Empty((await aliceConnection.LookupAsync(mallory).WaitAsync(Events.Timeout)).Entries);
    }

    [Trait("Security", "25")]
    [Fact]
    public async Task Lookup_BeforeLogin_NotAuthenticatedAndClosed()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var (aliceConnection, _) = await server.RegisterAsync(alice, "phone");
        await aliceConnection.RegisterInDirectoryAsync(alice, "phone", "10.0.0.7:7979", AliceKey).WaitAsync(Events.Timeout);

        var anonymous = await server.ConnectAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => anonymous.LookupAsync(alice).WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.NotAuthenticated, (await anonymous.ClosedAsync()).Error?.Code);
    }

    [Trait("Security", "25")]
    [Fact]
    public async Task Heartbeat_WithoutLogin_AnsweredWithPendingCountThenConnectionClosed()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = (UniqueNames.Next("alice"), UniqueNames.Next("bob"));
        var (aliceConnection, _) = await server.RegisterAsync(alice, "phone");
        var registered = await aliceConnection.RegisterInDirectoryAsync(alice, "phone", "10.0.0.7:7979", AliceKey).WaitAsync(Events.Timeout);
        await aliceConnection.DisposeAsync();
        var (bobConnection, _) = await server.RegisterAsync(bob, "phone");
        await bobConnection.SendAsync(MessageId.NewRandom(), alice, "parked 1").WaitAsync(Events.Timeout);
        await bobConnection.SendAsync(MessageId.NewRandom(), alice, "parked 2").WaitAsync(Events.Timeout);

        var heartbeat = await server.ConnectAsync();
        var ok = await heartbeat.HeartbeatAsync(alice, "phone", registered.Secret).WaitAsync(Events.Timeout);

        Assert.Equal(2ul, ok.Pending);
        Assert.Null((await heartbeat.ClosedAsync()).Error); // closed by the server, without an error: nothing stays open
    }

    [Trait("Security", "25")]
    [Fact]
    public async Task Heartbeat_WrongSecretOrUnknownDevice_Refused()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var (aliceConnection, _) = await server.RegisterAsync(alice, "phone");
        await aliceConnection.RegisterInDirectoryAsync(alice, "phone", "10.0.0.7:7979", AliceKey).WaitAsync(Events.Timeout);

        var wrongSecret = await Assert.ThrowsAsync<ParleyErrorException>(
            async () => await (await server.ConnectAsync()).HeartbeatAsync(alice, "phone", new byte[32]));
        var unknownDevice = await Assert.ThrowsAsync<ParleyErrorException>(
            async () => await (await server.ConnectAsync()).HeartbeatAsync(alice, "laptop", new byte[32]));

        Assert.Equal(ErrorCode.AuthFailed, wrongSecret.Code);
        Assert.Equal(ErrorCode.UnknownDevice, unknownDevice.Code);
    }

    [Trait("Security", "25")]
    [Fact]
    public async Task Entry_WithoutHeartbeats_ForgottenAfterThreeMissedIntervals()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(new ServerOptions { Time = time });
        var (alice, bob) = (UniqueNames.Next("alice"), UniqueNames.Next("bob"));
        var (aliceConnection, _) = await server.RegisterAsync(alice, "phone");
        var (bobConnection, _) = await server.RegisterAsync(bob, "phone");
        var registered = await aliceConnection.RegisterInDirectoryAsync(alice, "phone", "10.0.0.7:7979", AliceKey).WaitAsync(Events.Timeout);

        // Heartbeats keep it: 4 intervals pass, one heartbeat each.
        for (var i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromSeconds(30));
            await (await server.ConnectAsync()).HeartbeatAsync(alice, "phone", registered.Secret).WaitAsync(Events.Timeout);
        }

        Assert.Single((await bobConnection.LookupAsync(alice).WaitAsync(Events.Timeout)).Entries);

        // Then silence: still there just before 90 s, gone at 90 s, and its heartbeat is refused from then on.
        time.Advance(TimeSpan.FromSeconds(89));
        Assert.Single((await bobConnection.LookupAsync(alice).WaitAsync(Events.Timeout)).Entries);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty((await bobConnection.LookupAsync(alice).WaitAsync(Events.Timeout)).Entries);
        var late = await Assert.ThrowsAsync<ParleyErrorException>(
            async () => await (await server.ConnectAsync()).HeartbeatAsync(alice, "phone", registered.Secret));
        Assert.Equal(ErrorCode.UnknownDevice, late.Code);
        time.Advance(TimeSpan.FromSeconds(30)); // the sweep frees the entry
        Assert.Equal(0, server.Server.PeerDirectory.Count);
    }

    [Fact]
    public async Task Expiry_FollowsTheConfiguredIntervalAndCount()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(new ServerOptions
        {
            Time = time,
            DirectoryHeartbeatInterval = TimeSpan.FromSeconds(1),
            DirectoryMissedHeartbeats = 2,
        });
        var alice = UniqueNames.Next("alice");
        var (aliceConnection, _) = await server.RegisterAsync(alice, "phone");
        var registered = await aliceConnection.RegisterInDirectoryAsync(alice, "phone", "", AliceKey).WaitAsync(Events.Timeout);

        Assert.Equal((1000u, 2000u), (registered.IntervalMs, registered.TimeoutMs));
        var entry = Assert.Single((await aliceConnection.LookupAsync(alice).WaitAsync(Events.Timeout)).Entries);
        Assert.Equal(string.Empty, entry.Endpoint); // dial-out only
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty((await aliceConnection.LookupAsync(alice).WaitAsync(Events.Timeout)).Entries);
    }

    [Fact]
    public async Task Logout_RemovesTheDevicesEntry()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob) = (UniqueNames.Next("alice"), UniqueNames.Next("bob"));
        var (aliceConnection, _) = await server.RegisterAsync(alice, "phone");
        var (bobConnection, _) = await server.RegisterAsync(bob, "phone");
        await aliceConnection.RegisterInDirectoryAsync(alice, "phone", "10.0.0.7:7979", AliceKey).WaitAsync(Events.Timeout);

        await aliceConnection.LogoutAsync().WaitAsync(Events.Timeout);

        Assert.Empty((await bobConnection.LookupAsync(alice).WaitAsync(Events.Timeout)).Entries);
    }

    [Fact]
    public async Task Metrics_CountConnectionsAcceptedHeartbeatsAndEntries()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var (aliceConnection, _) = await server.RegisterAsync(alice, "phone");
        var registered = await aliceConnection.RegisterInDirectoryAsync(alice, "phone", "10.0.0.7:7979", AliceKey).WaitAsync(Events.Timeout);
        await aliceConnection.DisposeAsync();
        var before = server.Server.Metrics.ConnectionsAccepted;

        var heartbeat = await server.ConnectAsync();
        await heartbeat.HeartbeatAsync(alice, "phone", registered.Secret).WaitAsync(Events.Timeout);
        await heartbeat.ClosedAsync();
        await server.WaitForServerConnectionsAsync();

        Assert.Equal(before + 1, server.Server.Metrics.ConnectionsAccepted);
        Assert.Equal(1, server.Server.Metrics.Heartbeats);
        Assert.Equal(1, server.Server.Metrics.DirectoryEntries);
        Assert.Equal(0, server.Server.Metrics.Connections);
    }
}
