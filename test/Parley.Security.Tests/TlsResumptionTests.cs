using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Security.Tests;

/// <summary>
/// TLS 1.3 session resumption between <see cref="ServerPinValidator"/>'s client options and a server set up as
/// ParleyServer is (one <see cref="SslStreamCertificateContext"/>), over real loopback TCP (security.md 2, 3).
/// SslStream has no "resumed" flag, so a handshake counts as resumed when the client read at least the server
/// certificate's DER encoding fewer bytes during it than during the first, full handshake: a full handshake carries
/// the certificate (and a signature over the transcript), a PSK handshake neither.
/// </summary>
public sealed class TlsResumptionTests : IDisposable
{
    // .NET's client session cache is process-wide and holds one session per target host (here the name
    // SessionHostFor gives this address). An address of this class's own keeps another test's connection from
    // replacing the session between the two handshakes of a test; Linux routes all of 127.0.0.0/8 to loopback.
    private static readonly IPAddress Address = IPAddress.Parse("127.0.0.2");

    private readonly TempDirectory _dir = new();
    private readonly TcpListener _listener = new(Address, 0);

    public TlsResumptionTests() => _listener.Start();

    [Trait("Security", "3")]
    [Fact]
    public async Task Reconnect_SameServer_ResumesTheSessionAndStillChecksThePin()
    {
        using var certificate = ServerCertificate.LoadOrCreate(_dir.Combine("server"));
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        var pin = KeyFingerprint.Of(certificate);

        var full = await HandshakeAsync(context, new ServerPinValidator(pin));
        var validator = new ServerPinValidator(pin);
        var resumed = await HandshakeAsync(context, validator);

        Assert.Null(full.Failure);
        Assert.Null(resumed.Failure);
        AssertResumed(full, resumed, certificate);
        Assert.Equal(PinDecision.Trusted, validator.LastDecision);
        Assert.Equal(pin, validator.PresentedFingerprint);
        Assert.True(resumed.Confirmed);
    }

    [Trait("Security", "3")]
    [Fact]
    public async Task Reconnect_ResumedSessionOfAKeyOtherThanThePinned_IsRefused()
    {
        using var certificate = ServerCertificate.LoadOrCreate(_dir.Combine("server"));
        using var other = ServerCertificate.LoadOrCreate(_dir.Combine("other"));
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        var full = await HandshakeAsync(context, new ServerPinValidator(KeyFingerprint.Of(certificate)));
        Assert.Null(full.Failure);

        // The same server, so the session is resumed, but this endpoint is pinned to another key: the session's
        // certificate is checked against that pin and refused, as a full handshake would be.
        var validator = new ServerPinValidator(KeyFingerprint.Of(other));
        var refused = await HandshakeAsync(context, validator);

        Assert.IsType<AuthenticationException>(refused.Failure);
        AssertResumed(full, refused, certificate);
        Assert.Equal(PinDecision.Changed, validator.LastDecision);
        Assert.Equal(KeyFingerprint.Of(certificate), validator.PresentedFingerprint);
    }

    [Trait("Security", "3")]
    [Fact]
    public async Task Reconnect_AnotherServerKeyOnTheSameAddress_IsRefused()
    {
        using var certificate = ServerCertificate.LoadOrCreate(_dir.Combine("server"));
        using var impostor = ServerCertificate.LoadOrCreate(_dir.Combine("impostor"));
        var pin = KeyFingerprint.Of(certificate);
        var served = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        Assert.Null((await HandshakeAsync(served, new ServerPinValidator(pin))).Failure);

        // The client offers the first server's ticket; the impostor cannot decrypt it, sends its own certificate,
        // and the pin refuses it.
        var validator = new ServerPinValidator(pin);
        var refused = await HandshakeAsync(SslStreamCertificateContext.Create(impostor, additionalCertificates: null, offline: true), validator);

        Assert.IsType<AuthenticationException>(refused.Failure);
        Assert.Equal(PinDecision.Changed, validator.LastDecision);
        Assert.Equal(KeyFingerprint.Of(impostor), validator.PresentedFingerprint);
    }

    [Trait("Security", "3")]
    [Fact]
    public async Task ConfirmPinned_WithoutACallbackDecision_ChecksTheResumedSessionsCertificate()
    {
        using var certificate = ServerCertificate.LoadOrCreate(_dir.Combine("server"));
        using var other = ServerCertificate.LoadOrCreate(_dir.Combine("other"));
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        var pin = KeyFingerprint.Of(certificate);
        var full = await HandshakeAsync(context, new ServerPinValidator(pin));
        Assert.Null(full.Failure);

        // Validators that took no part in the handshake stand for a runtime that skips the callback on resumption.
        var right = new ServerPinValidator(pin);
        var wrong = new ServerPinValidator(KeyFingerprint.Of(other));
        var resumed = await HandshakeAsync(context, new ServerPinValidator(pin), tls => (right.ConfirmPinned(tls), wrong.ConfirmPinned(tls)));

        AssertResumed(full, resumed, certificate);
        Assert.Equal((true, false), resumed.Inspected);
        Assert.Equal(PinDecision.Trusted, right.LastDecision);
        Assert.Equal(PinDecision.Changed, wrong.LastDecision);
        Assert.Equal(pin, wrong.PresentedFingerprint);
    }

    [Theory]
    [InlineData("127.0.0.1", "ip-7f000001.parley.invalid")]
    [InlineData("::1", "ip-00000000000000000000000000000001.parley.invalid")]
    [InlineData("[::1]", "ip-00000000000000000000000000000001.parley.invalid")]
    [InlineData("chat.example.org", "chat.example.org")]
    [InlineData("localhost", "localhost")]
    public void SessionHostFor_AnAddressGetsAName_ANameIsKept(string host, string expected) =>
        Assert.Equal(expected, ServerPinValidator.SessionHostFor(host));

    public void Dispose()
    {
        _listener.Stop();
        _listener.Dispose();
        _dir.Dispose();
    }

    private static void AssertResumed(HandshakeResult full, HandshakeResult second, X509Certificate2 certificate) =>
        Assert.True(second.BytesRead + certificate.RawData.Length <= full.BytesRead,
            $"full handshake {full.BytesRead} bytes, second {second.BytesRead}, certificate {certificate.RawData.Length}: not resumed");

    /// <summary>
    /// One connection: the server presents <paramref name="context"/>, the client authenticates with
    /// <paramref name="validator"/>'s options for the listener's address (as ParleyConnection does with its host),
    /// and on success confirms the pin and echoes a byte; reading the echo also reads the session tickets the server
    /// sent after its handshake, so the next connection can resume.
    /// </summary>
    private async Task<HandshakeResult> HandshakeAsync(SslStreamCertificateContext context, ServerPinValidator validator,
        Func<SslStream, (bool, bool)>? inspect = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var server = OneShotTlsServer.ServeOnceAsync(_listener, context, timeout.Token);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(Address, ((IPEndPoint)_listener.LocalEndpoint).Port, timeout.Token);
            var counting = new CountingStream(tcp.GetStream());
            await using var tls = new SslStream(counting, leaveInnerStreamOpen: false);
            try
            {
                await tls.AuthenticateAsClientAsync(validator.CreateClientOptions(Address.ToString()), timeout.Token);
            }
            catch (AuthenticationException exception)
            {
                return new HandshakeResult(counting.BytesRead, exception, Confirmed: false, Inspected: default);
            }

            var bytesRead = counting.BytesRead;
            var confirmed = validator.ConfirmPinned(tls);
            await tls.WriteAsync(new byte[] { 42 }, timeout.Token);
            var echo = new byte[1];
            await tls.ReadExactlyAsync(echo, timeout.Token);
            Assert.Equal(42, echo[0]);
            return new HandshakeResult(bytesRead, Failure: null, confirmed, inspect?.Invoke(tls) ?? default);
        }
        finally
        {
            await server;
        }
    }

    private sealed record HandshakeResult(long BytesRead, Exception? Failure, bool Confirmed, (bool, bool) Inspected);

    /// <summary>Counts the bytes read through it: what the client received from the server.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            BytesRead += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
