using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 19: a password change revokes every token and closes the user's other sessions.</summary>
public sealed class PasswordChangeTests
{
    private const string NewPassword = "a brand new passphrase";

    [Fact]
    [Trait("Security", "19")]
    public async Task ChangePassword_Succeeds_OldTokensRejectedOtherSessionsClosedNewPasswordWorks()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("carol");
        var (laptop, laptopAuth) = await server.RegisterAsync(user, "laptop");
        var (phone, phoneAuth) = await server.LoginAsync(user, "phone");

        var renewed = await laptop.ChangePasswordAsync(TestServer.Password, NewPassword).WaitAsync(Events.Timeout);

        var closed = await phone.ClosedAsync();
        Assert.Equal(ErrorCode.PasswordChanged, closed.Error?.Code);
        var stale = await server.ConnectAsync();
        var refused = await Assert.ThrowsAsync<ParleyErrorException>(() => stale.ResumeAsync(user, phoneAuth.Token, "phone").WaitAsync(Events.Timeout));
        Assert.Equal(ErrorCode.AuthFailed, refused.Code);
        var fresh = await server.ConnectAsync();
        Assert.Equal(user, (await fresh.ResumeAsync(user, renewed.Token, "laptop").WaitAsync(Events.Timeout)).User);
        var (_, withNew) = await server.LoginAsync(user, "tablet", NewPassword);
        Assert.Equal(user, withNew.User);
        var old = await server.ConnectAsync();
        var oldRefused = await Assert.ThrowsAsync<ParleyErrorException>(() => old.LoginAsync(user, TestServer.Password, "tablet").WaitAsync(Events.Timeout));
        Assert.Equal(ErrorCode.AuthFailed, oldRefused.Code);
        Assert.NotEqual(laptopAuth.Token, renewed.Token);
    }

    [Fact]
    [Trait("Security", "19")]
    public async Task ChangePassword_WrongCurrentPassword_AuthFailedAndNothingChanges()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("dave");
        var (laptop, auth) = await server.RegisterAsync(user, "laptop");

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => laptop.ChangePasswordAsync("not my password", NewPassword).WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.AuthFailed, error.Code);
        Assert.False(laptop.Completion.IsCompleted);
        var again = await server.ConnectAsync();
        Assert.Equal(user, (await again.ResumeAsync(user, auth.Token, "laptop").WaitAsync(Events.Timeout)).User);
    }
}
