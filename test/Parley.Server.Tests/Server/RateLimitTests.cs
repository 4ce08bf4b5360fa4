using System.Buffers;
using System.Diagnostics;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 10: excess is delayed, a sustained flood is closed with RateLimited, others are unaffected.</summary>
public sealed class RateLimitTests
{
    [Trait("Security", "10")]
    [Fact]
    public async Task Send_FloodOf10000Frames_AcceptedWithinBurstPlusRateThenRateLimitedAndClosed()
    {
        var options = new ServerOptions { RateLimitFramesPerSecond = 20, RateLimitBurst = 50, RateLimitMaxDelayedFrames = 100 };
        await using var server = await TestServer.StartAsync(options);
        var (flooder, _) = await server.RegisterAsync(UniqueNames.Next("flood"));
        var (other, _) = await server.RegisterAsync(UniqueNames.Next("calm"), address: "10.0.0.9");
        var before = server.Server.Metrics.MessagesStored;

        var flood = new ArrayBufferWriter<byte>();
        for (var i = 0; i < 10_000; i++)
        {
            FrameCodec.Write(flood, new SendFrame(MessageId.NewRandom(), "echo", "spam"));
        }

        var clock = Stopwatch.StartNew();
        var write = flooder.WriteRawAsync(flood.WrittenMemory); // may stall: the server stops reading while it delays
        var closed = await flooder.ClosedAsync();
        var elapsed = clock.Elapsed.TotalSeconds;

        Assert.Equal(ErrorCode.RateLimited, closed.Error?.Code);
        var accepted = server.Server.Metrics.MessagesStored - before;
        Assert.InRange(accepted, 1, 50 + (20 * elapsed) + 1);

        // Another connection's messages still go through at once.
        var ok = await other.SendAsync(MessageId.NewRandom(), "echo", "still fine").WaitAsync(Events.Timeout);
        Assert.True(ok.Sequence > 0);
        await Task.WhenAny(write, Task.Delay(Events.Timeout));
    }

    [Trait("Security", "10")]
    [Fact]
    public async Task Send_PacedClientOverTheRate_OnlyDelayedNeverClosed()
    {
        // A client that waits for each acknowledgement (as `parley chat` does) is slowed, not cut off, however long
        // it goes on: 120 messages with a burst of 5 and 50 frames/s means ~115 delayed frames in a row.
        var options = new ServerOptions { RateLimitFramesPerSecond = 50, RateLimitBurst = 5, RateLimitMaxDelayedFrames = 10 };
        await using var server = await TestServer.StartAsync(options);
        var (client, _) = await server.RegisterAsync(UniqueNames.Next("paced"));

        for (var i = 0; i < 120; i++)
        {
            await client.SendAsync(MessageId.NewRandom(), "echo", $"line {i}").WaitAsync(Events.Timeout);
        }

        Assert.False(client.Completion.IsCompleted);
    }
}
