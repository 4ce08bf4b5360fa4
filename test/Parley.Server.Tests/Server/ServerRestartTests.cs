using Parley.Client;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 20 and 21: what got SEND_OK survives a restart, and a retry after it is still deduplicated.</summary>
public sealed class ServerRestartTests
{
    [Trait("Security", "20")]
    [Fact]
    public async Task Send_RetriedAfterServerRestart_IdenticalSendOkAndOneCopy()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (before, _) = await server.RegisterAsync(alice);
        var id = MessageId.NewRandom();
        var original = await before.SendAsync(id, bob, "across a restart").WaitAsync(Events.Timeout);

        await server.RestartAsync();
        Assert.Equal(ErrorCode.ServerShuttingDown, (await before.ClosedAsync()).Error?.Code);
        var (after, _) = await server.LoginAsync(alice);
        var retry = await after.SendAsync(id, bob, "across a restart").WaitAsync(Events.Timeout);

        Assert.Equal(original, retry);
        var (bobConnection, auth) = await server.LoginAsync(bob);
        var (messages, _) = await bobConnection.SyncAllAsync(0);
        Assert.Equal(1UL, auth.Head);
        Assert.Equal([id], messages.Select(m => m.Id));
    }

    [Fact]
    public async Task Resume_TokenIssuedBeforeRestart_StillWorks()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var (connection, auth) = await server.RegisterAsync(alice);

        await server.RestartAsync();
        await connection.ClosedAsync();
        var next = await server.ConnectAsync();
        var resumed = await next.ResumeAsync(alice, auth.Token, "phone").WaitAsync(Events.Timeout);

        Assert.Equal(alice, resumed.User);
    }
}
