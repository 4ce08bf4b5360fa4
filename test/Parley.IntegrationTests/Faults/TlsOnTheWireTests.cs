using System.Security.Authentication;
using System.Text;
using Parley.Client;
using Parley.Protocol;

namespace Parley.IntegrationTests.Faults;

/// <summary>
/// security.md 4, no secret before a validated TLS session: every byte a client sends while registering, logging in
/// and sending, as recorded by a proxy between it and the real server, is TLS from the very first byte, and the
/// password never appears on the wire.
/// </summary>
public sealed class TlsOnTheWireTests : IDisposable
{
    /// <summary>Distinctive, and not pure ASCII, so the UTF-8 form is what is looked for.</summary>
    private const string Password = "wiretap-pässword-7f3a9c";
    private const string User = "wiretap";
    private readonly TempDirectory _dir = new();

    [Trait("Security", "4")]
    [Fact]
    public async Task LoginThroughCapturingProxy_FirstByteIsTlsHandshake_PasswordNeverOnTheWire()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        await using var proxy = FaultProxy.Start(server.Port, captureUpstream: true);
        var address = new ServerAddress("127.0.0.1", proxy.Port);
        var trust = ServerTrust.ExactKey(server.Fingerprint);

        await using (var registering = await ParleyConnection.ConnectAsync(address, trust))
        {
            await registering.RegisterAsync(User, Password, "phone");
        }

        await using (var connection = await ParleyConnection.ConnectAsync(address, trust))
        {
            Assert.Equal(SslProtocols.Tls13, connection.TlsProtocol);
            var ok = await connection.LoginAsync(User, Password, "phone");
            Assert.Equal(User, ok.User);
            await connection.SendAsync(MessageId.NewRandom(), "echo", "the password is " + Password);
        }

        await proxy.WaitUntilAsync(p => p.Active == 0, Parley.Timeout);
        var captures = proxy.UpstreamCaptures;
        Assert.Equal(2, captures.Count);
        Assert.False(proxy.CaptureTruncated);
        foreach (var capture in captures)
        {
            Assert.True(capture.Length > 0, "the client sent nothing");
            Assert.Equal(0x16, capture[0]); // a TLS record of type handshake…
            Assert.Equal(0x03, capture[1]); // …of TLS version 3.x…
            Assert.Equal(0x01, capture[5]); // …holding a ClientHello
            var records = TlsRecordTypes(capture);
            Assert.Contains((byte)0x17, records); // application data: the frames went, encrypted
        }

        var everything = captures.SelectMany(c => c).ToArray();
        var password = Encoding.UTF8.GetBytes(Password);
        Assert.Equal(-1, everything.AsSpan().IndexOf(password));
        Assert.Equal(-1, everything.AsSpan().IndexOf("PRLY"u8)); // not even the HELLO magic is visible
        // The search itself works: the same bytes with a plaintext LOGIN spliced in would have been caught.
        Assert.NotEqual(-1, everything.Concat(password).ToArray().AsSpan().IndexOf(password));
    }

    /// <summary>
    /// Walks the capture as a sequence of TLS records (type, version, 16-bit length, body) and returns their types.
    /// Fails unless the records cover every byte exactly: no plaintext before, between or after them.
    /// </summary>
    private static List<byte> TlsRecordTypes(byte[] capture)
    {
        var types = new List<byte>();
        var offset = 0;
        while (offset < capture.Length)
        {
            Assert.True(capture.Length - offset >= 5, $"a partial TLS record header at byte {offset}");
            var type = capture[offset];
            Assert.True(type is 0x14 or 0x15 or 0x16 or 0x17, $"byte {offset} starts a record of unknown type 0x{type:x2}");
            Assert.Equal(0x03, capture[offset + 1]);
            var length = (capture[offset + 3] << 8) | capture[offset + 4];
            Assert.True(length <= (1 << 14) + 256, $"a TLS record of {length} bytes at byte {offset}");
            offset += 5 + length;
            types.Add(type);
        }

        Assert.Equal(capture.Length, offset);
        return types;
    }

    public void Dispose() => _dir.Dispose();
}
