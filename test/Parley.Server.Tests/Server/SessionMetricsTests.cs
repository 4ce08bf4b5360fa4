using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>The server's session and connection counts go back to zero when everyone has left.</summary>
public sealed class SessionMetricsTests
{
    [Fact]
    public async Task Sessions_AfterLoginsAndDisconnects_BackToZero()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var (bob, _) = await server.RegisterAsync(UniqueNames.Next("bob"));
        Assert.Equal(2, server.Server.Metrics.Sessions);

        await alice.DisposeAsync();
        await bob.DisposeAsync();
        await server.WaitForServerConnectionsAsync();

        Assert.Equal(0, server.Server.Metrics.Sessions);
        Assert.Equal(0, server.Server.Metrics.Connections);
    }

    [Fact]
    public async Task Sessions_AfterConflictAndDisconnect_BackToZero()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var (first, _) = await server.RegisterAsync(bob, "phone");
        var (second, _) = await server.LoginAsync(bob, "phone");
        Assert.Equal(ErrorCode.Conflict, (await first.ClosedAsync()).Error?.Code);

        await second.DisposeAsync();
        await server.WaitForServerConnectionsAsync();

        Assert.Equal(0, server.Server.Metrics.Connections);
        Assert.Equal(0, server.Server.Metrics.Sessions);
    }
}
