using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Parley.Client;
using Parley.Client.P2P;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.IntegrationTests.P2P;

/// <summary>
/// security.md 24 in its two shapes: a peer that completes the handshake but never acknowledges (the message goes
/// through the server, once), and a message that arrives by both paths (shown once).
/// </summary>
public sealed class FallbackRaceTests
{
    [Trait("Security", "24")]
    [Fact]
    public async Task PeerThatNeverAcknowledges_MessageGoesThroughTheServer_ShownOnce()
    {
        await using var setup = await P2PSetup.StartAsync();
        await setup.Bob.KillAsync(); // bob's real device is offline; a mute device of bob's takes its place below

        // A device of bob's that registers properly, passes the handshake, reads the message and never answers.
        using var muteKey = RawPeer.KeyOf(setup.Temp.Sub("mute-keys"), "mute");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var bobAccount = await LibraryClient.LoginAsync(setup.Server, "bob", "mute");
        await bobAccount.RegisterInDirectoryAsync("bob", "mute", listener.LocalEndpoint.ToString()!, DeviceCertificate.Fingerprint(muteKey));
        var received = new TaskCompletionSource<PeerMessageFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        var mute = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = muteKey,
                ClientCertificateRequired = true,
                EnabledSslProtocols = SslProtocols.Tls13,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            });
            var frames = new RawFrames(tls);
            Assert.IsType<PeerHelloFrame>(await frames.ReadAsync());
            await frames.WriteAsync(new PeerHelloAckFrame("bob", "mute"));
            received.TrySetResult(Assert.IsType<PeerMessageFrame>(await frames.ReadAsync()));
            await frames.ReadAsync(); // holds the link open, silent, until the sender gives up and closes it
        });

        var sent = await Parley.As(setup.AliceHome, null, "send", "--p2p", "--ack-timeout", "1", "bob", "are you there?");

        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.Contains("stored on the server (no acknowledgement within 1 s)", sent.Stderr, StringComparison.Ordinal);
        var directAttempt = await received.Task.WaitAsync(Parley.Timeout);
        var later = await Parley.As(setup.BobHome, null, "listen", "--p2p", "--json");
        var shown = Assert.Single(PeerMessages.Parse(later.Lines));
        Assert.Equal(("are you there?", "server"), (shown.Text, shown.Path));
        Assert.Equal(directAttempt.Id.ToString(), shown.Id); // the same id on both paths
        await mute.WaitAsync(Parley.Timeout);
    }

    [Trait("Security", "24")]
    [Fact]
    public async Task SameMessageByBothPaths_ShownOnce()
    {
        await using var setup = await P2PSetup.StartAsync();
        var id = MessageId.NewRandom();

        // Directly, through a P2P device of alice's (the library, as `send --p2p` uses it)...
        var home = new DeviceHome(setup.AliceHome);
        await using (var session = await DeviceSession.OpenAsync(home, DeviceRole.OneShot))
        await using (var node = await PeerNode.StartAsync(session, home, new PeerOptions { Listen = null }, onMessage: null))
        {
            Assert.Equal(DeliveryPath.Direct, (await node.SendAsync(id, "bob", "twice sent, once shown")).Path);
        }

        // ...and the same id through the server, as after a PEER_ACK lost on the way back.
        await using (var other = await LibraryClient.LoginAsync(setup.Server, "alice", "laptop"))
        {
            await other.SendAsync(id, "bob", "twice sent, once shown");
        }

        // Bob's heartbeat says something is pending; he fetches it and acknowledges (his cursor moves past 0: to 1 on
        // SQLite, to the stream's sequence in cluster mode, where sequences have gaps).
        await PeerToPeerTests.WaitUntilAsync(
            () => Task.FromResult(File.Exists(Path.Combine(setup.BobHome, "cursor")) &&
                ulong.TryParse(File.ReadAllText(Path.Combine(setup.BobHome, "cursor")).Trim(), out var cursor) && cursor > 0),
            "bob to fetch the server copy");
        var shown = Assert.Single(PeerMessages.Parse(setup.Bob.Stdout));
        Assert.Equal((id.ToString(), "direct"), (shown.Id, shown.Path));
    }

    /// <summary>Frames over an already-authenticated stream (the mute peer's side).</summary>
    private sealed class RawFrames(Stream stream)
    {
        public async Task WriteAsync(Frame frame)
        {
            await stream.WriteAsync(FrameCodec.Encode(frame));
            await stream.FlushAsync();
        }

        public async Task<Frame?> ReadAsync()
        {
            var prefix = new byte[4];
            try
            {
                await stream.ReadExactlyAsync(prefix);
                var body = new byte[System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(prefix)];
                await stream.ReadExactlyAsync(body);
                return FrameCodec.Decode(body, ProtocolLimits.Default);
            }
            catch (Exception exception) when (exception is IOException or EndOfStreamException)
            {
                return null;
            }
        }
    }
}
