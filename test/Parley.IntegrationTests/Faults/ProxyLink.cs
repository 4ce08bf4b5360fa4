using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Parley.IntegrationTests.Faults;

/// <summary>
/// One proxied connection: the accepted client socket, the socket to the target, and one pump per direction. A pump
/// is a reader (reads as fast as the source sends, into a bounded queue, so a slow toxic pushes back on the sender
/// through TCP) and a writer (applies the direction's current toxics to each chunk). A side that closes is passed on as
/// a half-close; when both directions are done, or anything fails, both sockets are closed.
/// </summary>
internal sealed class ProxyLink
{
    private const int ReadBufferSize = 16 * 1024;
    private const int QueuedChunks = 64;

    private readonly FaultProxy _proxy;
    private readonly Socket _client;
    private readonly Socket _server;
    private readonly CaptureBuffer? _capture;
    private readonly CancellationTokenSource _stop = new();
    private int _closed;

    public ProxyLink(FaultProxy proxy, Socket client, Socket server, CaptureBuffer? capture)
    {
        _proxy = proxy;
        _client = client;
        _server = server;
        _capture = capture;
        _client.NoDelay = true;
        _server.NoDelay = true;
    }

    /// <summary>Forwards until both directions have ended or the link is closed. Never throws.</summary>
    public async Task RunAsync()
    {
        try
        {
            await Task.WhenAll(
                PumpAsync(_client, _server, ToxicDirection.Upstream),
                PumpAsync(_server, _client, ToxicDirection.Downstream));
        }
        finally
        {
            Close();
        }
    }

    /// <summary>Closes both sides abruptly: linger 0 makes the kernel send RST instead of FIN.</summary>
    public void Reset()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            foreach (var socket in new[] { _client, _server })
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                }
                catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
                {
                }

                socket.Dispose();
            }

            _stop.Cancel();
            _proxy.OnReset();
        }
    }

    /// <summary>Closes both sides in an orderly way (FIN; the kernel sends RST instead if it still holds unread bytes).</summary>
    public void Close() => Close(cut: false);

    private void Close(bool cut)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            foreach (var socket in new[] { _client, _server })
            {
                try
                {
                    socket.Shutdown(SocketShutdown.Both);
                }
                catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
                {
                }

                socket.Dispose();
            }

            _stop.Cancel();
            if (cut)
            {
                _proxy.OnCut();
            }
        }
    }

    private async Task PumpAsync(Socket source, Socket destination, ToxicDirection direction)
    {
        var queue = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(QueuedChunks)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        await Task.WhenAll(ReadAsync(source, queue.Writer, direction), WriteAsync(destination, queue.Reader, direction));
    }

    private async Task ReadAsync(Socket source, ChannelWriter<Chunk> queue, ToxicDirection direction)
    {
        var token = _stop.Token;
        try
        {
            var buffer = new byte[ReadBufferSize];
            while (true)
            {
                var read = await source.ReceiveAsync(buffer, SocketFlags.None, token);
                if (read == 0)
                {
                    break;
                }

                var bytes = buffer.AsSpan(0, read).ToArray();
                if (direction == ToxicDirection.Upstream)
                {
                    _capture?.Append(bytes);
                }

                await queue.WriteAsync(new Chunk(bytes, Stopwatch.GetTimestamp()), token);
            }

            queue.TryComplete();
        }
        catch (Exception exception)
        {
            queue.TryComplete(exception);
            Close();
        }
    }

    private async Task WriteAsync(Socket destination, ChannelReader<Chunk> queue, ToxicDirection direction)
    {
        var token = _stop.Token;
        var state = new DirectionState();
        try
        {
            await foreach (var chunk in queue.ReadAllAsync(token))
            {
                if (!await ForwardAsync(destination, chunk, direction, state, token))
                {
                    return; // cut or reset: the link is closed
                }
            }

            // The source closed its sending side: pass the half-close on.
            destination.Shutdown(SocketShutdown.Send);
        }
        catch (Exception)
        {
            Close();
        }
    }

    /// <summary>Applies the toxics to one chunk. False when the link was cut or reset.</summary>
    private async Task<bool> ForwardAsync(Socket destination, Chunk chunk, ToxicDirection direction, DirectionState state, CancellationToken token)
    {
        var toxics = state.Refresh(_proxy.Get(direction));
        if (toxics.Latency > TimeSpan.Zero || toxics.Jitter > TimeSpan.Zero)
        {
            var jitter = toxics.Jitter.Ticks == 0 ? 0 : Random.Shared.NextInt64(-toxics.Jitter.Ticks, toxics.Jitter.Ticks + 1);
            var delay = TimeSpan.FromTicks(Math.Max(0, toxics.Latency.Ticks + jitter));
            var due = Math.Max(chunk.Arrival + ToTimestamp(delay), state.LastDue); // never reorder
            state.LastDue = due;
            await DelayUntilAsync(due, token);
        }

        var offset = 0;
        while (offset < chunk.Bytes.Length)
        {
            toxics = state.Refresh(_proxy.Get(direction)); // a change applies between the pieces of a chunk
            if (toxics.Reset)
            {
                Reset();
                return false;
            }

            if (toxics.BlackHole)
            {
                _proxy.OnDropped(direction, chunk.Bytes.Length - offset);
                return true;
            }

            var piece = chunk.Bytes.Length - offset;
            if (toxics.SliceBytes > 0)
            {
                piece = Math.Min(piece, toxics.SliceBytes);
            }

            if (toxics.BandwidthBytesPerSecond > 0)
            {
                piece = (int)Math.Min(piece, Math.Max(1, toxics.BandwidthBytesPerSecond / 50)); // about 20 ms per piece
            }

            var cut = false;
            if (state.Budget is { } budget)
            {
                if (piece >= budget)
                {
                    piece = (int)budget;
                    cut = true;
                }

                state.Budget = budget - piece;
            }

            await SendAllAsync(destination, chunk.Bytes.AsMemory(offset, piece), token);
            offset += piece;
            _proxy.OnForwarded(direction, piece);
            if (cut)
            {
                Close(cut: true);
                return false;
            }

            if (toxics.BandwidthBytesPerSecond > 0)
            {
                state.NextSend = Math.Max(state.NextSend, Stopwatch.GetTimestamp()) + piece * Stopwatch.Frequency / toxics.BandwidthBytesPerSecond;
                await DelayUntilAsync(state.NextSend, token);
            }

            if (toxics.SliceBytes > 0 && toxics.SliceDelay > TimeSpan.Zero && offset < chunk.Bytes.Length)
            {
                await Task.Delay(toxics.SliceDelay, token);
            }
        }

        return true;
    }

    private static async Task SendAllAsync(Socket destination, ReadOnlyMemory<byte> bytes, CancellationToken token)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await destination.SendAsync(bytes, SocketFlags.None, token);
            bytes = bytes[sent..];
        }
    }

    private static long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static async Task DelayUntilAsync(long timestamp, CancellationToken token)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, token);
        }
    }

    private readonly record struct Chunk(byte[] Bytes, long Arrival);

    /// <summary>Per connection and direction: the toxics last seen, and what they have used up.</summary>
    private sealed class DirectionState
    {
        private Toxics? _seen;

        public long? Budget { get; set; }

        public long LastDue { get; set; }

        public long NextSend { get; set; }

        public Toxics Refresh(Toxics current)
        {
            if (!ReferenceEquals(current, _seen))
            {
                _seen = current;
                Budget = current.LimitBytes; // a newly applied limit starts a new budget
            }

            return current;
        }
    }
}
