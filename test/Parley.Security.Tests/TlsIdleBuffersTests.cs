using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Parley.Security.Tests;

/// <summary>
/// <see cref="TlsIdleBuffers"/> on real SslStreams over loopback TCP: OpenSSL reports the mode set after the
/// handshake, and traffic of every size still arrives intact in both directions with buffers freed and taken again
/// between records. What it saves is measured by bench/ab-login.sh (docs/performance.md, session 7).
/// </summary>
public sealed class TlsIdleBuffersTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public TlsIdleBuffersTests() => _listener.Start();

    [Fact]
    public async Task TryEnable_BeforeTheHandshake_ChangesNothing()
    {
        using var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)_listener.LocalEndpoint);
        await using var tls = new SslStream(client.GetStream());

        Assert.False(TlsIdleBuffers.TryEnable(tls));
    }

    [Fact]
    public async Task TryEnable_AfterTheHandshake_SetsTheModeAndEveryRecordStillArrives()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var certificate = ServerCertificate.LoadOrCreate(_dir.Combine("server"));
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        var accept = _listener.AcceptTcpClientAsync(cts.Token).AsTask();
        using var clientTcp = new TcpClient();
        await clientTcp.ConnectAsync((IPEndPoint)_listener.LocalEndpoint, cts.Token);
        using var serverTcp = await accept;
        await using var server = new SslStream(serverTcp.GetStream());
        await using var client = new SslStream(clientTcp.GetStream());
        var validator = new ServerPinValidator(KeyFingerprint.Of(certificate));
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context }, cts.Token),
            client.AuthenticateAsClientAsync(validator.CreateClientOptions("localhost"), cts.Token));

        Assert.True(TlsIdleBuffers.TryEnable(server));
        Assert.True(TlsIdleBuffers.TryEnable(client));

        // Sizes around the 16 KiB record limit and far above it, each one a full round trip, so both sides go idle
        // (buffers freed) and busy again many times.
        foreach (var size in new[] { 1, 100, 16_383, 16_384, 16_385, 70_000, 1 << 20 })
        {
            var sent = RandomNumberGenerator.GetBytes(size);
            var echo = EchoAsync(server, size, cts.Token);
            await client.WriteAsync(sent, cts.Token);
            var received = new byte[size];
            await client.ReadExactlyAsync(received, cts.Token);
            await echo;
            Assert.Equal(sent, received);
        }
    }

    private static async Task EchoAsync(SslStream stream, int size, CancellationToken cancellationToken)
    {
        var buffer = new byte[size];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        await stream.WriteAsync(buffer, cancellationToken);
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Dispose();
        _dir.Dispose();
    }
}
