using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 9: at most 8 connections per address may be waiting to log in.</summary>
public sealed class UnauthenticatedConnectionCapTests
{
    [Trait("Security", "9")]
    [Fact]
    public async Task Connect_NinthUnauthenticatedFromOneAddress_RefusedWhileOtherAddressSucceeds()
    {
        await using var server = await TestServer.StartAsync();
        for (var i = 0; i < 8; i++)
        {
            await server.ConnectAsync("127.0.0.2");
        }

        var refused = false;
        try
        {
            // Refused at accept: the connection is closed before HELLO is answered.
            var ninth = await server.ConnectAsync("127.0.0.2");
            await ninth.RegisterAsync(UniqueNames.Next("ninth"), TestServer.Password, "phone").WaitAsync(Events.Timeout);
        }
        catch (Exception exception) when (exception is IOException or Parley.Client.ParleyErrorException)
        {
            refused = true;
        }

        Assert.True(refused, "the 9th unauthenticated connection from one address was served");
        var (_, auth) = await server.RegisterAsync(UniqueNames.Next("other"), address: "127.0.0.3");
        Assert.NotNull(auth);
    }
}
