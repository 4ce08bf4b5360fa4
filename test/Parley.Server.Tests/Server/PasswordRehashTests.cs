using Parley.Client;
using Parley.Protocol;
using Parley.Security;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 14: a hash made with other parameters is rewritten at the next successful login, never at a failed one.</summary>
public sealed class PasswordRehashTests
{
    private static readonly PasswordHasher Older = new(new PasswordHashOptions { MemoryKiB = 512, Iterations = 1 });

    [Trait("Security", "14")]
    [Fact]
    public async Task Login_StoredHashWithOlderParameters_RewrittenWithCurrentOnes()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        var old = Older.Hash(TestServer.Password);
        Assert.True(await server.Store.CreateUserAsync(user, old));

        await server.LoginAsync(user);

        var stored = await server.Store.GetPasswordHashAsync(user);
        Assert.NotNull(stored);
        Assert.StartsWith("$argon2id$v=19$m=1024,t=1,p=1$", stored, StringComparison.Ordinal);
        Assert.False(server.Server.Hasher.NeedsRehash(stored));
        var (_, again) = await server.LoginAsync(user, "laptop");
        Assert.Equal(user, again.User);
    }

    [Trait("Security", "14")]
    [Fact]
    public async Task Login_WrongPasswordWithOlderHash_HashUnchanged()
    {
        await using var server = await TestServer.StartAsync();
        var user = UniqueNames.Next("alice");
        var old = Older.Hash(TestServer.Password);
        Assert.True(await server.Store.CreateUserAsync(user, old));
        var connection = await server.ConnectAsync();

        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.LoginAsync(user, "wrong password", "phone"));

        Assert.Equal(ErrorCode.AuthFailed, error.Code);
        Assert.Equal(old, await server.Store.GetPasswordHashAsync(user));
    }
}
