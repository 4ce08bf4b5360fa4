using Parley.Server.Connections;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 12: caps on connections overall and per address, and 9: on those not yet logged in.</summary>
public sealed class ConnectionLimiterTests
{
    [Trait("Security", "12")]
    [Fact]
    public void TryOpen_OverTheGlobalCap_RefusedUntilOneCloses()
    {
        var limiter = new ConnectionLimiter(new ServerOptions { MaxConnections = 3, MaxUnauthenticatedPerAddress = 100 });
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(limiter.TryOpen($"10.0.0.{i}"));
        }

        Assert.Contains("maximum of 3 connections", limiter.TryOpen("10.0.0.9"), StringComparison.Ordinal);
        limiter.Closed("10.0.0.1", wasAuthenticated: false);
        Assert.Null(limiter.TryOpen("10.0.0.9"));
    }

    [Trait("Security", "12")]
    [Fact]
    public void TryOpen_OverThePerAddressCap_RefusedForThatAddressOnly()
    {
        var limiter = new ConnectionLimiter(new ServerOptions { MaxConnectionsPerAddress = 2, MaxUnauthenticatedPerAddress = 100 });
        Assert.Null(limiter.TryOpen("10.0.0.1"));
        Assert.Null(limiter.TryOpen("10.0.0.1"));

        Assert.NotNull(limiter.TryOpen("10.0.0.1"));
        Assert.Null(limiter.TryOpen("10.0.0.2"));
    }

    [Trait("Security", "9")]
    [Trait("Security", "12")]
    [Fact]
    public void TryOpen_LoggedInConnections_NoLongerCountAgainstThePreLoginCap()
    {
        var limiter = new ConnectionLimiter(new ServerOptions { MaxUnauthenticatedPerAddress = 2 });
        Assert.Null(limiter.TryOpen("10.0.0.1"));
        Assert.Null(limiter.TryOpen("10.0.0.1"));
        Assert.NotNull(limiter.TryOpen("10.0.0.1"));

        limiter.Authenticated("10.0.0.1");

        Assert.Null(limiter.TryOpen("10.0.0.1"));
        Assert.NotNull(limiter.TryOpen("10.0.0.1"));
    }
}
