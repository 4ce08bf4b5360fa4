using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Security.Tests;

public sealed class ServerPinValidatorTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public ServerPinValidatorTests() => _listener.Start();

    private string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    [Trait("Security", "3")]
    [Fact]
    public async Task Handshake_UnknownKeyWithoutAcceptNew_ThrowsAuthenticationException()
    {
        using var certificate = ServerCertificate.LoadOrCreate(_dir.Combine("server"));
        var known = new KnownServers(_dir.Combine("known_servers"));
        var validator = new ServerPinValidator(known, Endpoint, acceptNew: false);

        await Assert.ThrowsAsync<AuthenticationException>(() => HandshakeAsync(certificate, validator));

        Assert.Equal(PinDecision.Unknown, validator.LastDecision);
        Assert.Equal(KeyFingerprint.Of(certificate), validator.PresentedFingerprint);
        Assert.Null(known.Lookup(Endpoint));
    }

    [Trait("Security", "3")]
    [Fact]
    public async Task Handshake_AcceptNewThenNewServerKey_TrustedOnceThenRefusedAsChanged()
    {
        var known = new KnownServers(_dir.Combine("known_servers"));

        using (var certificate = ServerCertificate.LoadOrCreate(_dir.Combine("server")))
        {
            var first = new ServerPinValidator(known, Endpoint, acceptNew: true);
            var protocol = await HandshakeAsync(certificate, first);
            Assert.Equal(SslProtocols.Tls13, protocol);
            Assert.Equal(PinDecision.AcceptedNew, first.LastDecision);
            Assert.Equal(KeyFingerprint.Of(certificate), known.Lookup(Endpoint));
        }

        // Restart: the key is reloaded from server.pfx, so the pin still holds without acceptNew.
        using (var reloaded = ServerCertificate.LoadOrCreate(_dir.Combine("server")))
        {
            var second = new ServerPinValidator(new KnownServers(_dir.Combine("known_servers")), Endpoint, acceptNew: false);
            Assert.Equal(SslProtocols.Tls13, await HandshakeAsync(reloaded, second));
            Assert.Equal(PinDecision.Trusted, second.LastDecision);
        }

        // A different server key on the same endpoint is refused, even with acceptNew, and the pin is kept.
        var pinned = known.Lookup(Endpoint);
        using var impostor = ServerCertificate.LoadOrCreate(_dir.Combine("impostor"));
        var third = new ServerPinValidator(known, Endpoint, acceptNew: true);
        await Assert.ThrowsAsync<AuthenticationException>(() => HandshakeAsync(impostor, third));
        Assert.Equal(PinDecision.Changed, third.LastDecision);
        Assert.Equal(KeyFingerprint.Of(impostor), third.PresentedFingerprint);
        Assert.Equal(pinned, known.Lookup(Endpoint));
    }

    [Trait("Security", "3")]
    [Fact]
    public async Task Handshake_ProvisionedFingerprint_AcceptsOnlyThatKey()
    {
        using var certificate = ServerCertificate.LoadOrCreate(_dir.Combine("server"));
        var fingerprint = KeyFingerprint.Of(certificate);

        var right = new ServerPinValidator(fingerprint.ToUpperInvariant());
        Assert.Equal(SslProtocols.Tls13, await HandshakeAsync(certificate, right));
        Assert.Equal(PinDecision.Trusted, right.LastDecision);

        var bytes = Convert.FromHexString(fingerprint);
        bytes[0] ^= 0x80;
        var wrong = new ServerPinValidator(Convert.ToHexStringLower(bytes));
        await Assert.ThrowsAsync<AuthenticationException>(() => HandshakeAsync(certificate, wrong));
        Assert.Equal(PinDecision.Changed, wrong.LastDecision);
    }

    [Trait("Security", "3")]
    [Fact]
    public async Task Handshake_ProvisionedFingerprint_ChainBuiltWithoutTheSystemRoots()
    {
        // The pin decides alone; the chain .NET builds before the callback uses an empty custom root store, so the
        // system's trust store is neither loaded nor searched on every handshake (most of a reconnect's client CPU).
        using var certificate = ServerCertificate.LoadOrCreate(_dir.Combine("server"));
        var validator = new ServerPinValidator(KeyFingerprint.Of(certificate));
        X509ChainTrustMode? trustMode = null;
        int? customRoots = null;
        var errors = SslPolicyErrors.None;

        await HandshakeAsync(certificate, validator, options =>
        {
            var pin = options.RemoteCertificateValidationCallback!;
            options.RemoteCertificateValidationCallback = (sender, presented, chain, policyErrors) =>
            {
                trustMode = chain?.ChainPolicy.TrustMode;
                customRoots = chain?.ChainPolicy.CustomTrustStore.Count;
                errors = policyErrors;
                return pin(sender, presented, chain, policyErrors);
            };
        });

        Assert.Equal(X509ChainTrustMode.CustomRootTrust, trustMode);
        Assert.Equal(0, customRoots);
        Assert.True(errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors)); // self-signed: untrusted, and ignored
        Assert.Equal(PinDecision.Trusted, validator.LastDecision);
    }

    [Trait("Security", "3")]
    [Fact]
    public void Constructor_MalformedFingerprint_Throws()
    {
        Assert.Throws<ArgumentException>(() => new ServerPinValidator("abc"));
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Dispose();
        _dir.Dispose();
    }

    /// <summary>
    /// One TLS handshake over real loopback TCP: the server side presents <paramref name="certificate"/>, the client
    /// side validates with <paramref name="validator"/> (its options changed by <paramref name="adjust"/>); on success a byte is echoed to prove the session works.
    /// Returns the negotiated protocol; throws what the client's handshake throws.
    /// </summary>
    private async Task<SslProtocols> HandshakeAsync(X509Certificate2 certificate, ServerPinValidator validator,
        Action<SslClientAuthenticationOptions>? adjust = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var server = OneShotTlsServer.ServeOnceAsync(_listener, SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true), timeout.Token);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port, timeout.Token);
            await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            var options = validator.CreateClientOptions("parley-server");
            adjust?.Invoke(options);
            await tls.AuthenticateAsClientAsync(options, timeout.Token);

            await tls.WriteAsync(new byte[] { 42 }, timeout.Token);
            var echo = new byte[1];
            await tls.ReadExactlyAsync(echo, timeout.Token);
            Assert.Equal(42, echo[0]);
            return tls.SslProtocol;
        }
        finally
        {
            await server;
        }
    }
}
