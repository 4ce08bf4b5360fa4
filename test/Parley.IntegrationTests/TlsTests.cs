using System.Security.Authentication;
using System.Text.RegularExpressions;
using Parley.Client;
using Parley.Security;

namespace Parley.IntegrationTests;

/// <summary>TLS from the first byte, and the server key pinned like ssh's known_hosts (security.md 1-4).</summary>
public sealed class TlsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Trait("Security", "2")]
    [Fact]
    public async Task Client_ToOwnServer_NegotiatesTls13()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));

        await using var connection = await LibraryClient.ConnectAsync(server);

        Assert.Equal(SslProtocols.Tls13, connection.TlsProtocol);
    }

    [Trait("Security", "3")]
    [Fact]
    public async Task Register_UnknownKeyWithoutAcceptNew_RefusedShowingFingerprintAndNothingSent()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));

        var result = await Parley.As(_dir.Sub("alice"), Accounts.Password + "\n", "register", "--server", server.Address, "--user", "alice", "--password-stdin");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains(server.Fingerprint, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--accept-new-server-key", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("registered", server.Log, StringComparison.Ordinal);
    }

    [Trait("Security", "3")]
    [Fact]
    public async Task ServerKeyChanged_ClientRefusesLoudlyAndSendsNoCredentials()
    {
        var data = _dir.Sub("data");
        var alice = _dir.Sub("alice");
        await using var server = await ServerProcess.StartAsync(data);
        await Accounts.RegisterAsync(server, alice, "alice");
        var loginsBefore = Regex.Count(server.Log, "alice logged in");
        await server.StopAsync();
        File.Delete(Path.Combine(data, "server.pfx")); // a new key, as an impostor would have
        await server.RestartAsync();

        var send = await Parley.As(alice, null, "send", "echo", "hi");
        var login = await Parley.As(alice, Accounts.Password + "\n", "login", "--server", server.AddressFor(alice), "--user", "alice", "--password-stdin", "--accept-new-server-key");

        Assert.Equal(4, send.ExitCode);
        Assert.Contains("SERVER IDENTITY CHANGED", send.Stderr, StringComparison.Ordinal);
        Assert.Equal(4, login.ExitCode); // --accept-new-server-key never overrides a changed key
        Assert.Contains("SERVER IDENTITY CHANGED", login.Stderr, StringComparison.Ordinal);
        Assert.True(loginsBefore > 0);
        Assert.Equal(0, Regex.Count(server.Log, "alice logged in"));
        Assert.DoesNotContain("Login failed", server.Log, StringComparison.Ordinal);
    }

    [Trait("Security", "3")]
    [Fact]
    public async Task Reconnect_FromTheSameProcess_PinStillChecked_AnotherKeyRefusedAndTheRightOneAccepted()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var address = new ServerAddress("127.0.0.1", server.Port);
        await using (var first = await LibraryClient.ConnectAsync(server))
        {
            Assert.Equal(SslProtocols.Tls13, first.TlsProtocol);
        }

        // This reconnect offers the first connection's TLS session ticket (security.md 2) and the server accepts it;
        // the endpoint is now pinned to a key no server has, so the session's key must be refused all the same.
        var elsewhere = new string('0', KeyFingerprint.HexLength);
        var refused = await Assert.ThrowsAsync<ServerIdentityException>(() => ParleyConnection.ConnectAsync(address, ServerTrust.ExactKey(elsewhere)));
        await using var again = await LibraryClient.ConnectAsync(server);

        Assert.Equal(PinDecision.Changed, refused.Decision);
        Assert.Equal(server.Fingerprint, refused.PresentedFingerprint);
        Assert.Equal(SslProtocols.Tls13, again.TlsProtocol);
    }

    public void Dispose() => _dir.Dispose();
}
