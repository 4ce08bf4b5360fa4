using System.Text;
using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>REGISTER and LOGIN over the wire (security.md 8, 14, 15).</summary>
public sealed class AuthenticationTests
{
    [Fact]
    public async Task Register_ThenLoginOnNewConnection_AuthOkForTheSameUser()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");

        var (first, registered) = await server.RegisterAsync(user, "phone");
        await first.DisposeAsync();
        var (_, loggedIn) = await server.LoginAsync(user, "laptop");

        Assert.Equal((user, "phone"), (registered.User, registered.Device));
        Assert.Equal((user, "laptop"), (loggedIn.User, loggedIn.Device));
        Assert.Equal(32, registered.Token.Length);
        Assert.Equal(32, loggedIn.Token.Length);
        Assert.NotEqual(registered.Token, loggedIn.Token);
        Assert.Equal(0UL, loggedIn.Head);
    }

    [Trait("Security", "14")]
    [Fact]
    public async Task Register_PasswordStored_AsArgon2idPhcStringNeverInClear()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        const string Password = "Tr0ub4dor&3-unique-marker";

        await server.RegisterAsync(user, password: Password);

        var stored = await server.Store.GetPasswordHashAsync(user);
        Assert.NotNull(stored);
        Assert.StartsWith("$argon2id$v=19$m=1024,t=1,p=1$", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, stored, StringComparison.Ordinal);
        Assert.True(server.Server.Hasher.Verify(Password, stored));

        // Nowhere in the database files either (main file and write-ahead log).
        var marker = Encoding.UTF8.GetBytes(Password);
        foreach (var file in new[] { server.DatabasePath, server.DatabasePath + "-wal" }.Where(File.Exists))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.True(copy.ToArray().AsSpan().IndexOf(marker) < 0, $"the password appears in {Path.GetFileName(file)}");
        }
    }

    [Trait("Security", "15")]
    [Fact]
    public async Task Login_WrongPasswordAndUnknownUser_SameAuthFailedCodeAndMessage()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        await server.CreateOfflineUserAsync(user);
        var connection = await server.ConnectAsync();

        var wrongPassword = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.LoginAsync(user, "not the password", "phone"));
        var unknownUser = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.LoginAsync(UniqueNames.Next("ghost"), "not the password", "phone"));

        Assert.Equal(ErrorCode.AuthFailed, wrongPassword.Code);
        Assert.Equal(ErrorCode.AuthFailed, unknownUser.Code);
        Assert.Equal(wrongPassword.Message, unknownUser.Message);

        // Two failures leave the connection open: the right password still works on it.
        var auth = await connection.LoginAsync(user, TestServer.Password, "phone").WaitAsync(Events.Timeout);
        Assert.Equal(user, auth.User);
    }

    [Trait("Security", "15")]
    [Fact]
    public async Task Login_UnknownUser_CostsAHashLikeAWrongPassword()
    {
        await using var server = await TestServer.StartAsync();
        var connection = await server.ConnectAsync();
        var before = server.Server.Hasher.HashCount;

        await Assert.ThrowsAsync<ParleyErrorException>(() => connection.LoginAsync(UniqueNames.Next("ghost"), "whatever pw", "phone"));

        Assert.Equal(before + 1, server.Server.Hasher.HashCount);
    }

    [Trait("Security", "8")]
    [Fact]
    public async Task Login_NameInOtherCase_SameAccount()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        var mixedCase = "Al" + user[2..].ToUpperInvariant();

        var (first, registered) = await server.RegisterAsync(mixedCase);
        await first.DisposeAsync();
        var (_, loggedIn) = await server.LoginAsync(user, "laptop");

        Assert.Equal(user, registered.User);
        Assert.Equal(user, loggedIn.User);
        var taken = await Assert.ThrowsAsync<ParleyErrorException>(() => server.RegisterAsync(user.ToUpperInvariant()));
        Assert.Equal(ErrorCode.UserExists, taken.Code);
    }

    [Fact]
    public async Task Register_ShortPassword_WeakPasswordAndNoAccount()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        var connection = await server.ConnectAsync();

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.RegisterAsync(user, "short", "phone"));

        Assert.Equal(ErrorCode.WeakPassword, error.Code);
        Assert.Null(await server.Store.GetPasswordHashAsync(user));
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("al!ce")]
    [InlineData("caf\u00e9")]
    [InlineData("")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456789012345")]
    public async Task Register_BadUserName_BadId(string name)
    {
        await using var server = await TestServer.StartAsync();
        var connection = await server.ConnectAsync();

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.RegisterAsync(name, TestServer.Password, "phone"));

        Assert.Equal(ErrorCode.BadId, error.Code);
    }

    [Theory]
    [InlineData("my phone")]
    [InlineData("")]
    [InlineData("ph\u00f6ne")]
    public async Task Register_BadDeviceId_BadId(string device)
    {
        await using var server = await TestServer.StartAsync();
        var connection = await server.ConnectAsync();

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.RegisterAsync(UniqueNames.Next("alice"), TestServer.Password, device));

        Assert.Equal(ErrorCode.BadId, error.Code);
    }

    [Fact]
    public async Task Login_ThreeFailuresOnOneConnection_ConnectionClosed()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        await server.CreateOfflineUserAsync(user);
        var connection = await server.ConnectAsync();

        for (var i = 0; i < 3; i++)
        {
            var error = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.LoginAsync(user, $"wrong password {i}", "phone"));
            Assert.Equal(ErrorCode.AuthFailed, error.Code);
        }

        await connection.ClosedAsync();
    }

    [Fact]
    public async Task Login_AsBuiltInEcho_AuthFailedAndRegisterRefused()
    {
        await using var server = await TestServer.StartAsync();
        var connection = await server.ConnectAsync();

        var login = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.LoginAsync("echo", "!locked", "phone"));
        var register = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.RegisterAsync("Echo", TestServer.Password, "phone"));

        Assert.Equal(ErrorCode.AuthFailed, login.Code);
        Assert.Equal(ErrorCode.UserExists, register.Code);
    }
}
