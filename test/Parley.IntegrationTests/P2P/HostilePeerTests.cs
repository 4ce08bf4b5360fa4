using System.Security.Cryptography.X509Certificates;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.IntegrationTests.P2P;

/// <summary>
/// security.md 26 and 27 against a real `parley listen --p2p` process: a key the directory does not list is refused
/// whatever name it claims; the P2P port has the server's frame cap and a rate limit; none of it stops the peer
/// from serving its real contacts.
/// </summary>
public sealed class HostilePeerTests
{
    [Trait("Security", "26")]
    [Fact]
    public async Task Dialler_WithAKeyTheDirectoryDoesNotList_IsRefusedWhateverNameItClaims()
    {
        await using var setup = await P2PSetup.StartAsync();
        var claimedDevice = setup.DeviceOf(setup.AliceHome);
        using var malloryKey = RawPeer.KeyOf(setup.Temp.Sub("mallory-keys"), "mallory-device");
        await using var mallory = await RawPeer.ConnectAsync(setup.BobEndpoint, malloryKey);

        await mallory.WriteAsync(new PeerHelloFrame(ProtocolVersion.V1, "alice", claimedDevice)); // alice's name, not alice's key
        var answer = await mallory.ReadAsync();
        await mallory.WriteAsync(new PeerMessageFrame(MessageId.NewRandom(), 0, "from \"alice\""));

        Assert.Equal(ErrorCode.PeerNotTrusted, Assert.IsType<ErrorFrame>(answer).Code);
        Assert.Null(await mallory.ReadAsync()); // closed: no PEER_HELLO_ACK, no PEER_ACK
        await setup.Bob.WaitForAsync((_, e) => e.Any(l => l.Contains("refused a link", StringComparison.Ordinal)), "bob's refusal");
        await setup.AssertBobStillServesAliceAsync();
        Assert.DoesNotContain(setup.Bob.Stdout, l => l.Contains("from \\\"alice\\\"", StringComparison.Ordinal));
    }

    [Trait("Security", "27")]
    [Fact]
    public async Task HeaderDeclaring2GiB_OnTheP2PPort_ClosedAtOnce()
    {
        await using var setup = await P2PSetup.StartAsync();
        using var key = RawPeer.KeyOf(setup.Temp.Sub("stranger-keys"), "stranger");
        await using var stranger = await RawPeer.ConnectAsync(setup.BobEndpoint, key);

        await stranger.WriteRawAsync([0x80, 0x00, 0x00, 0x00, (byte)FrameType.PeerHello]);

        var answer = await stranger.ReadAsync();
        Assert.True(answer is null || answer is ErrorFrame { Code: ErrorCode.FrameTooLarge }, $"got {answer}");
        Assert.Null(answer is null ? null : await stranger.ReadAsync());
        await setup.AssertBobStillServesAliceAsync();
    }

    [Trait("Security", "27")]
    [Fact]
    public async Task FloodOnAnAuthenticatedLink_TakenInNoFasterThanTheRateLimit()
    {
        await using var setup = await P2PSetup.StartAsync();
        using var aliceKey = RawPeer.KeyOf(setup.AliceHome, setup.DeviceOf(setup.AliceHome));
        await using var flooder = await LinkAsHostileAliceAsync(setup, aliceKey);

        // 1,400 messages back to back, without waiting for any PEER_ACK. Whatever the receiver's own speed, what it
        // takes in obeys the bucket: by time t after the first, at most burst + rate * t + 1 (security.md 10's shape).
        // 1,400 is the burst (500) and at most 900 delayed frames: fewer than the 1,000 delayed in a row that end a
        // link as a flood (the next test).
        const int count = 1400;
        var frames = Flood(count);
        var write = Task.Run(() => flooder.WriteRawAsync(frames));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var acks = 0;
        while (acks < count && await flooder.ReadAsync() is { } frame)
        {
            Assert.True(frame is PeerAckFrame, $"after {acks} acknowledgements: {frame}");
            acks++;
            var bound = 500 + (200 * clock.Elapsed.TotalSeconds) + 1;
            Assert.True(acks <= bound, $"{acks} frames taken in {clock.Elapsed.TotalSeconds:0.00} s: over the bucket ({bound:0})");
        }

        Assert.Equal(count, acks); // delayed, not dropped: every message acknowledged once taken in
        await write;
        await setup.AssertBobStillServesAliceAsync();
    }

    [Trait("Security", "27")]
    [Fact]
    public async Task FloodOnAnAuthenticatedLink_PastTheDelayedLimit_ClosedWithRateLimited()
    {
        await using var setup = await P2PSetup.StartAsync();
        using var aliceKey = RawPeer.KeyOf(setup.AliceHome, setup.DeviceOf(setup.AliceHome));
        await using var flooder = await LinkAsHostileAliceAsync(setup, aliceKey);

        // Far more than the burst (500) and the 1,000 delayed frames in a row that make a flood. Frames that pass
        // undelayed mid-flood (each wait oversleeps a little) do not restart the count, so the close comes whatever
        // the timers do; the write stops when bob closes the link.
        const int count = 10_000;
        var frames = Flood(count);
        var write = Task.Run(async () =>
        {
            try
            {
                await flooder.WriteRawAsync(frames);
            }
            catch (IOException)
            {
                // bob closed the link under the write
            }
        });
        var acks = 0;
        Frame? last;
        while ((last = await flooder.ReadAsync()) is PeerAckFrame)
        {
            acks++;
        }

        Assert.Equal(ErrorCode.RateLimited, Assert.IsType<ErrorFrame>(last).Code);
        Assert.Null(await flooder.ReadAsync()); // and closed
        Assert.InRange(acks, 1500, count - 1); // the burst and the 1,000 delayed at least were taken in, not all
        await write;
        await setup.AssertBobStillServesAliceAsync();
    }

    /// <summary>
    /// A link to bob made with alice's real key (from her home), past PEER_HELLO_ACK: a contact that turns hostile.
    /// </summary>
    private static async Task<RawPeer> LinkAsHostileAliceAsync(P2PSetup setup, X509Certificate2 aliceKey)
    {
        await setup.RegisterAliceKeyAsync();
        var link = await RawPeer.ConnectAsync(setup.BobEndpoint, aliceKey);
        await link.WriteAsync(new PeerHelloFrame(ProtocolVersion.V1, "alice", setup.DeviceOf(setup.AliceHome)));
        Assert.IsType<PeerHelloAckFrame>(await link.ReadAsync());
        return link;
    }

    /// <summary><paramref name="count"/> PEER_MESSAGE frames back to back, in one buffer.</summary>
    private static byte[] Flood(int count) =>
        Enumerable.Range(0, count).SelectMany(i => FrameCodec.Encode(new PeerMessageFrame(MessageId.NewRandom(), 0, $"flood {i}"))).ToArray();
}
