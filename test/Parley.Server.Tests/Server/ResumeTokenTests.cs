using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 19: resume tokens rotate on every use and are bound to their (user, device).</summary>
public sealed class ResumeTokenTests
{
    [Trait("Security", "19")]
    [Fact]
    public async Task Resume_WithTokenFromAuthOk_LogsInAndIssuesANewToken()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        var (first, registered) = await server.RegisterAsync(user, "phone");
        await first.DisposeAsync();

        var connection = await server.ConnectAsync();
        var resumed = await connection.ResumeAsync(user, registered.Token, "phone").WaitAsync(Events.Timeout);

        Assert.Equal((user, "phone"), (resumed.User, resumed.Device));
        Assert.Equal(32, resumed.Token.Length);
        Assert.NotEqual(registered.Token, resumed.Token);
        Assert.NotNull(await connection.WhoAsync().WaitAsync(Events.Timeout));
    }

    [Trait("Security", "19")]
    [Fact]
    public async Task Resume_OldTokenAfterRotation_AuthFailedWhileTheNewOneWorks()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        var (first, registered) = await server.RegisterAsync(user, "phone");
        await first.DisposeAsync();
        var second = await server.ConnectAsync();
        var rotated = await second.ResumeAsync(user, registered.Token, "phone").WaitAsync(Events.Timeout);
        await second.DisposeAsync();

        var third = await server.ConnectAsync();
        var reused = await Assert.ThrowsAsync<ParleyErrorException>(() => third.ResumeAsync(user, registered.Token, "phone"));
        var resumed = await third.ResumeAsync(user, rotated.Token, "phone").WaitAsync(Events.Timeout);

        Assert.Equal(ErrorCode.AuthFailed, reused.Code);
        Assert.Equal(user, resumed.User);
    }

    [Trait("Security", "19")]
    [Fact]
    public async Task Resume_TokenWithAnotherDevice_AuthFailedAndTokenConsumed()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        var (first, registered) = await server.RegisterAsync(user, "phone");
        await first.DisposeAsync();
        var connection = await server.ConnectAsync();

        var otherDevice = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.ResumeAsync(user, registered.Token, "laptop"));
        var rightDeviceAfterwards = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.ResumeAsync(user, registered.Token, "phone"));

        Assert.Equal(ErrorCode.AuthFailed, otherDevice.Code);
        Assert.Equal(ErrorCode.AuthFailed, rightDeviceAfterwards.Code);
    }

    [Trait("Security", "19")]
    [Fact]
    public async Task Resume_TokenWithAnotherUser_AuthFailed()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var mallory = UniqueNames.Next("mallory");
        var (first, registered) = await server.RegisterAsync(alice, "phone");
        await first.DisposeAsync();
        await server.CreateOfflineUserAsync(mallory);
        var connection = await server.ConnectAsync();

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.ResumeAsync(mallory, registered.Token, "phone"));

        Assert.Equal(ErrorCode.AuthFailed, error.Code);
    }

    [Trait("Security", "19")]
    [Fact]
    public async Task Resume_AfterLogout_AuthFailed()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        var (connection, registered) = await server.RegisterAsync(user, "phone");

        await connection.LogoutAsync().WaitAsync(Events.Timeout);

        var next = await server.ConnectAsync();
        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => next.ResumeAsync(user, registered.Token, "phone"));
        Assert.Equal(ErrorCode.AuthFailed, error.Code);
    }
}
