using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Parley.IntegrationTests.Faults;

/// <summary>The fault proxy itself, over loopback to an echo server: each toxic does what it says, and can be changed live.</summary>
public sealed class FaultProxyTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly EchoServer _echo = new();
    private FaultProxy _proxy = null!;
    private Socket _client = null!;
    private EchoConnection _far = null!;

    public async Task InitializeAsync()
    {
        _proxy = FaultProxy.Start(_echo.Port, captureUpstream: true);
        _client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await _client.ConnectAsync(_proxy.EndPoint);
        _far = await _echo.NextConnectionAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _proxy.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task NoToxics_ForwardsBothWaysAndCapturesUpstream()
    {
        Assert.Equal("hello", await RoundTripAsync("hello"));
        Assert.Equal("world", await RoundTripAsync("world"));

        Assert.Equal("helloworld", Encoding.ASCII.GetString(Assert.Single(_proxy.UpstreamCaptures)));
        Assert.Equal(1, _proxy.Accepted);
        Assert.Equal(10, _proxy.BytesForwarded(ToxicDirection.Upstream));
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task Latency_DelaysEachDirection_AndChangesWhileConnected()
    {
        _proxy.Set(ToxicDirection.Downstream, new Toxics { Latency = TimeSpan.FromMilliseconds(300) });
        var oneWay = Stopwatch.StartNew();
        Assert.Equal("a", await RoundTripAsync("a"));
        var downOnly = oneWay.Elapsed;

        _proxy.Set(ToxicDirection.Upstream, new Toxics { Latency = TimeSpan.FromMilliseconds(200) });
        var bothWays = Stopwatch.StartNew();
        Assert.Equal("b", await RoundTripAsync("b"));
        var both = bothWays.Elapsed;

        Assert.True(downOnly >= TimeSpan.FromMilliseconds(290), $"round trip took {downOnly.TotalMilliseconds} ms");
        Assert.True(both >= TimeSpan.FromMilliseconds(490), $"round trip took {both.TotalMilliseconds} ms");

        _proxy.Clear();
        Assert.Equal("c", await RoundTripAsync("c")); // same connection, still working
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task Latency_WithJitter_KeepsOrder()
    {
        _proxy.SetBoth(new Toxics { Latency = TimeSpan.FromMilliseconds(50), Jitter = TimeSpan.FromMilliseconds(50) });
        var text = string.Concat(Enumerable.Range(0, 50).Select(i => $"<{i}>"));
        foreach (var piece in text.Chunk(3))
        {
            await SendAsync(new string(piece));
        }

        Assert.Equal(text, await ReceiveAsync(text.Length));
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task Bandwidth_LimitsBytesPerSecond()
    {
        _proxy.Set(ToxicDirection.Upstream, new Toxics { BandwidthBytesPerSecond = 20_000 });
        var payload = new string('x', 10_000);
        var clock = Stopwatch.StartNew();

        await SendAsync(payload);
        await _far.WaitForBytesAsync(10_000, Timeout);

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(400), $"10 kB at 20 kB/s took {clock.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(payload, await ReceiveAsync(payload.Length));
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task Slicer_SplitsWritesIntoDelayedPieces()
    {
        _proxy.Set(ToxicDirection.Upstream, new Toxics { SliceBytes = 10, SliceDelay = TimeSpan.FromMilliseconds(10) });
        var payload = string.Concat(Enumerable.Range(0, 20).Select(i => $"{i:D5}"));
        var clock = Stopwatch.StartNew();

        await SendAsync(payload);
        var received = await _far.WaitForBytesAsync(payload.Length, Timeout);

        Assert.Equal(payload, Encoding.ASCII.GetString(received));
        Assert.True(_far.Reads >= 5, $"100 bytes in 10-byte slices arrived in {_far.Reads} reads");
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(80), $"9 pauses of 10 ms took {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task LimitData_ForwardsNBytesThenClosesBothSides()
    {
        Assert.Equal("ok", await RoundTripAsync("ok")); // bytes before the toxic do not count
        _proxy.Set(ToxicDirection.Upstream, new Toxics { LimitBytes = 10 });

        await SendAsync("0123456789abcdefghijklmno");

        var far = await _far.Ended.WaitAsync(Timeout);
        Assert.True(far is SocketError.Success or SocketError.ConnectionReset, $"the server side ended with {far}");
        Assert.Equal("ok0123456789", Encoding.ASCII.GetString(_far.Received));
        var near = await ReadToEndAsync();
        Assert.True(near.Error is SocketError.Success or SocketError.ConnectionReset, $"the client side ended with {near.Error}");
        Assert.True(near.Bytes.Length <= 12, "nothing past the limit came back");
        Assert.Equal(1, _proxy.Cuts);
        await _proxy.WaitUntilAsync(p => p.Active == 0, Timeout);
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task BlackHole_DropsDataButKeepsTheConnectionOpen()
    {
        Assert.Equal("a", await RoundTripAsync("a"));

        _proxy.Set(ToxicDirection.Upstream, new Toxics { BlackHole = true });
        await SendAsync("lost");
        await _proxy.WaitUntilAsync(p => p.BytesDropped(ToxicDirection.Upstream) >= 4, Timeout);
        _proxy.Set(ToxicDirection.Upstream, Toxics.None);
        _proxy.Set(ToxicDirection.Downstream, new Toxics { BlackHole = true });
        await SendAsync("b"); // reaches the server, whose echo is dropped
        await _far.WaitForBytesAsync(2, Timeout);
        await _proxy.WaitUntilAsync(p => p.BytesDropped(ToxicDirection.Downstream) >= 1, Timeout);
        _proxy.Clear();

        Assert.Equal("c", await RoundTripAsync("c")); // the same connection works again; the dropped bytes are gone
        Assert.Equal("abc", Encoding.ASCII.GetString(_far.Received));
        Assert.False(_far.Ended.IsCompleted);
        Assert.Equal(1, _proxy.Active);
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task ResetToxic_ResetsBothSidesOnNextData()
    {
        Assert.Equal("a", await RoundTripAsync("a"));
        _proxy.Set(ToxicDirection.Upstream, new Toxics { Reset = true });

        await SendAsync("b");

        var near = await ReadToEndAsync();
        Assert.Equal(SocketError.ConnectionReset, near.Error);
        Assert.Equal(SocketError.ConnectionReset, await _far.Ended.WaitAsync(Timeout));
        Assert.Equal("a", Encoding.ASCII.GetString(_far.Received));
        // The proxy counts a reset after it has reset both sockets, so both ends can see it first: wait for the count.
        await _proxy.WaitUntilAsync(p => p.Resets == 1, Timeout);
        Assert.Equal(1, _proxy.Resets);
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task ResetAll_ResetsAnIdleConnectionAtOnce()
    {
        Assert.Equal("a", await RoundTripAsync("a"));
        var reading = ReadToEndAsync();

        Assert.Equal(1, _proxy.ResetAll());

        Assert.Equal(SocketError.ConnectionReset, (await reading).Error);
        Assert.Equal(SocketError.ConnectionReset, await _far.Ended.WaitAsync(Timeout));
        await _proxy.WaitUntilAsync(p => p.Active == 0, Timeout);
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task ClientHalfClose_IsPassedOnAndTheConnectionEndsCleanly()
    {
        Assert.Equal("a", await RoundTripAsync("a"));

        _client.Shutdown(SocketShutdown.Send);

        Assert.Equal(SocketError.Success, await _far.Ended.WaitAsync(Timeout));
        Assert.Equal(SocketError.Success, (await ReadToEndAsync()).Error);
        await _proxy.WaitUntilAsync(p => p.Active == 0, Timeout);
    }

    [Trait("Security", "30")]
    [Fact]
    public async Task Dispose_ClosesOpenConnections()
    {
        Assert.Equal("a", await RoundTripAsync("a"));

        await _proxy.DisposeAsync();

        Assert.True((await _far.Ended.WaitAsync(Timeout)) is SocketError.Success or SocketError.ConnectionReset);
        Assert.True((await ReadToEndAsync()).Error is SocketError.Success or SocketError.ConnectionReset);
    }

    [Trait("Security", "30")]
    [Fact]
    public void Start_NonLoopbackTarget_Refused() =>
        Assert.Throws<ArgumentException>(() => FaultProxy.Start(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 80)));

    private async Task<string> RoundTripAsync(string text)
    {
        await SendAsync(text);
        return await ReceiveAsync(text.Length);
    }

    private async Task SendAsync(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text).AsMemory();
        while (!bytes.IsEmpty)
        {
            bytes = bytes[await _client.SendAsync(bytes, SocketFlags.None)..];
        }
    }

    private async Task<string> ReceiveAsync(int count)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        var buffer = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var read = await _client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline.Token);
            if (read == 0)
            {
                throw new IOException($"closed after {filled} of {count} bytes");
            }

            filled += read;
        }

        return Encoding.ASCII.GetString(buffer);
    }

    /// <summary>Reads until the proxy closes the client side: what arrived, and how it ended.</summary>
    private async Task<(byte[] Bytes, SocketError Error)> ReadToEndAsync()
    {
        using var deadline = new CancellationTokenSource(Timeout);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await _client.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    return (received.ToArray(), SocketError.Success);
                }

                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException exception)
        {
            return (received.ToArray(), exception.SocketErrorCode);
        }
    }
}
