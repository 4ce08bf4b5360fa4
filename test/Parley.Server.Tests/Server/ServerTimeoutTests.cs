using Microsoft.Extensions.Time.Testing;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 9 and 19: the login deadline, the idle timeout and token expiry, on a fake clock.</summary>
public sealed class ServerTimeoutTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Trait("Security", "9")]
    [Fact]
    public async Task Login_NotFinishedWithinLoginTimeout_TimeoutAndClosed()
    {
        await using var server = await TestServer.StartAsync(new ServerOptions { Time = _time });
        var punctual = await server.ConnectAsync();
        var idle = await server.ConnectAsync();

        _time.Advance(TimeSpan.FromSeconds(9));
        await punctual.RegisterAsync(UniqueNames.Next("alice"), TestServer.Password, "phone").WaitAsync(Events.Timeout);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(ErrorCode.Timeout, (await idle.ClosedAsync()).Error?.Code);
        Assert.NotNull(await punctual.WhoAsync().WaitAsync(Events.Timeout));
    }

    [Fact]
    public async Task Connection_SilentForIdleTimeout_TimeoutAndClosedAnyFrameResetsIt()
    {
        await using var server = await TestServer.StartAsync(new ServerOptions { Time = _time });
        var (connection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));

        _time.Advance(TimeSpan.FromSeconds(149));
        Assert.NotNull(await connection.WhoAsync().WaitAsync(Events.Timeout));
        _time.Advance(TimeSpan.FromSeconds(149));
        Assert.NotNull(await connection.WhoAsync().WaitAsync(Events.Timeout));
        _time.Advance(TimeSpan.FromSeconds(150));

        Assert.Equal(ErrorCode.Timeout, (await connection.ClosedAsync()).Error?.Code);
    }

    [Fact]
    public async Task Resume_TokenOlderThanLifetime_AuthFailed()
    {
        var options = new ServerOptions { Time = _time };
        await using var server = await TestServer.StartAsync(options);
        var alice = UniqueNames.Next("alice");
        var (phone, phoneAuth) = await server.RegisterAsync(alice, "phone");
        var (laptop, laptopAuth) = await server.LoginAsync(alice, "laptop");
        await phone.DisposeAsync();
        await laptop.DisposeAsync();

        _time.Advance(options.ResumeTokenLifetime - TimeSpan.FromMinutes(1));
        var early = await server.ConnectAsync();
        var resumed = await early.ResumeAsync(alice, phoneAuth.Token, "phone").WaitAsync(Events.Timeout);
        _time.Advance(TimeSpan.FromMinutes(2));
        var late = await server.ConnectAsync();
        var expired = await Assert.ThrowsAsync<ParleyErrorException>(() => late.ResumeAsync(alice, laptopAuth.Token, "laptop"));

        Assert.Equal(alice, resumed.User);
        Assert.Equal(ErrorCode.AuthFailed, expired.Code);
    }
}
