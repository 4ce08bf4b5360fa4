using Microsoft.Extensions.Time.Testing;
using Parley.Client;
using Parley.Protocol;
using Parley.Security;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 16: failed logins are throttled per address and per account, before any hash is computed.</summary>
public sealed class LoginThrottlingTests
{
    private const string Attacker = "10.0.0.66";
    private const string Bystander = "10.0.0.77";

    // The throttle's clock stands still, so a backoff never runs out while the test runs, however slow the machine.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Trait("Security", "16")]
    [Fact]
    public async Task Login_AfterFreeFailuresFromOneAddress_ThrottledWithoutHashingOtherAddressUnaffected()
    {
        using var throttle = new LoginThrottle(new LoginThrottleOptions(), _time);
        await using var server = await TestServer.StartAsync(throttle: throttle);
        var victim = UniqueNames.Next("victim");
        await server.CreateOfflineUserAsync(victim);
        var hasher = server.Server.Hasher;

        // Every failure names another account, so only the address counter reaches the threshold. The server closes a
        // connection after three failed attempts, so each attempt gets its own connection.
        var beforeFailures = hasher.HashCount;
        for (var i = 0; i < throttle.Options.FreeFailures; i++)
        {
            Assert.Equal(ErrorCode.AuthFailed, await LoginErrorAsync(server, Attacker, UniqueNames.Next("guess"), "wrong password"));
        }

        Assert.True(hasher.HashCount - beforeFailures >= throttle.Options.FreeFailures, "each failed login computed a hash");

        var beforeThrottled = hasher.HashCount;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(ErrorCode.Throttled, await LoginErrorAsync(server, Attacker, UniqueNames.Next("guess"), "wrong password"));
        }

        // Even the right password of a real account is refused from that address, and nothing is hashed.
        Assert.Equal(ErrorCode.Throttled, await LoginErrorAsync(server, Attacker, victim, TestServer.Password));
        Assert.Equal(beforeThrottled, hasher.HashCount);

        // Another address is not affected: a wrong password there is an ordinary failure, the right one logs in.
        Assert.Equal(ErrorCode.AuthFailed, await LoginErrorAsync(server, Bystander, UniqueNames.Next("guess"), "wrong password"));
        var (_, auth) = await server.LoginAsync(victim, address: Bystander);
        Assert.Equal(victim, auth.User);
    }

    [Trait("Security", "16")]
    [Fact]
    public async Task Login_AfterFreeFailuresForOneAccount_ThrottledFromAnyAddress()
    {
        using var throttle = new LoginThrottle(new LoginThrottleOptions(), _time);
        await using var server = await TestServer.StartAsync(throttle: throttle);
        var victim = UniqueNames.Next("victim");
        var other = UniqueNames.Next("other");
        await server.CreateOfflineUserAsync(victim);
        await server.CreateOfflineUserAsync(other);

        // A distributed guesser: each failure from another address, all against one account.
        for (var i = 0; i < throttle.Options.FreeFailures; i++)
        {
            Assert.Equal(ErrorCode.AuthFailed, await LoginErrorAsync(server, $"10.1.0.{i + 1}", victim, "wrong password"));
        }

        var before = server.Server.Hasher.HashCount;
        Assert.Equal(ErrorCode.Throttled, await LoginErrorAsync(server, "10.1.1.1", victim, "wrong password"));
        Assert.Equal(before, server.Server.Hasher.HashCount);

        // Other accounts are unaffected.
        var (_, auth) = await server.LoginAsync(other, address: "10.1.1.1");
        Assert.Equal(other, auth.User);
    }

    [Trait("Security", "16")]
    [Fact]
    public async Task Login_ThrottleWindowPassed_AcceptedAgain()
    {
        using var throttle = new LoginThrottle(new LoginThrottleOptions(), _time);
        await using var server = await TestServer.StartAsync(throttle: throttle);
        var victim = UniqueNames.Next("victim");
        await server.CreateOfflineUserAsync(victim);
        for (var i = 0; i < throttle.Options.FreeFailures; i++)
        {
            await LoginErrorAsync(server, Attacker, UniqueNames.Next("guess"), "wrong password");
        }

        Assert.Equal(ErrorCode.Throttled, await LoginErrorAsync(server, Attacker, victim, TestServer.Password));

        _time.Advance(throttle.Options.InitialBackoff + throttle.Options.Window);

        var (_, auth) = await server.LoginAsync(victim, address: Attacker);
        Assert.Equal(victim, auth.User);
    }

    private static async Task<ErrorCode> LoginErrorAsync(TestServer server, string address, string user, string password)
    {
        var connection = await server.ConnectAsync(address);
        try
        {
            var error = await Assert.ThrowsAsync<ParleyErrorException>(() => connection.LoginAsync(user, password, "phone").WaitAsync(Events.Timeout));
            return error.Code;
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }
}
