using System.Collections.Concurrent;
using System.Diagnostics;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Client.P2P;

/// <summary>
/// One direct link to a peer device, after the handshake: mutual TLS with both keys matching the directory, then
/// PEER_HELLO/PEER_HELLO_ACK. Symmetric from then on: either side sends PEER_MESSAGE and gets PEER_ACK. Messages are
/// handed to the node one at a time, in order; the ACK goes out only after the node has shown (and remembered) it.
/// Any protocol violation, flood or transport error closes the link; pending sends then fail and go to the server.
/// </summary>
internal sealed class PeerLink : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly PeerOptions _options;
    private readonly Func<PeerLink, PeerMessageFrame, ValueTask> _onMessage;
    private readonly Func<PeerLink, Frame, Task<Frame?>>? _onFileFrame;
    private readonly ConcurrentDictionary<MessageId, System.Threading.Channels.Channel<Frame>> _fileReplies = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ConcurrentDictionary<MessageId, TaskCompletionSource> _pending = new();
    private readonly Stopwatch _sinceRefill = Stopwatch.StartNew();
    private double _tokens;
    private int _delayedInARow;
    private long _lastActivity = Environment.TickCount64;
    private Task _readLoop = Task.CompletedTask;
    private Timer? _idle;

    public PeerLink(Stream stream, string user, string device, PeerOptions options, Func<PeerLink, PeerMessageFrame, ValueTask> onMessage,
        Func<PeerLink, Frame, Task<Frame?>>? onFileFrame = null)
    {
        _onFileFrame = onFileFrame;
        _stream = stream;
        _options = options;
        _onMessage = onMessage;
        _tokens = options.RateLimitBurst;
        User = user;
        Device = device;
    }

    /// <summary>The peer's user, as the directory vouched for it.</summary>
    public string User { get; }

    public string Device { get; }

    public bool IsOpen => !_readLoop.IsCompleted && !_lifetime.IsCancellationRequested;

    /// <summary>Completes when the link has closed.</summary>
    public Task Completion => _readLoop;

    /// <summary>Why the link closed, for status lines.</summary>
    public string? CloseReason { get; private set; }

    public void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        var period = TimeSpan.FromSeconds(Math.Max(1, _options.LinkIdleTimeout.TotalSeconds / 4));
        _idle = new Timer(_ =>
        {
            if (Environment.TickCount64 - Interlocked.Read(ref _lastActivity) > _options.LinkIdleTimeout.TotalMilliseconds && _pending.IsEmpty)
            {
                Close("idle");
            }
        }, null, period, period);
    }

    /// <summary>
    /// Sends a message and waits for the peer's PEER_ACK. True when acknowledged; false when not within
    /// <paramref name="ackTimeout"/> (the link is then closed: a peer that does not acknowledge is not trusted to).
    /// Throws <see cref="IOException"/> when the link is or becomes closed.
    /// </summary>
    public async Task<bool> SendAsync(MessageId id, long time, string text, TimeSpan ackTimeout, CancellationToken cancellationToken)
    {
        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(id, acknowledged))
        {
            throw new InvalidOperationException($"message {id} is already in flight on this link");
        }

        try
        {
            await WriteAsync(new PeerMessageFrame(id, time, text), cancellationToken).ConfigureAwait(false);
            await acknowledged.Task.WaitAsync(ackTimeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            Close($"no acknowledgement within {ackTimeout.TotalSeconds:0.#} s");
            return false;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Starts receiving the answers about one outgoing file (UPLOAD_READY, UPLOAD_DONE, ERROR with its id). The
    /// reader completes with an <see cref="IOException"/> when the link closes. Dispose the result to stop.
    /// </summary>
    public (System.Threading.Channels.ChannelReader<Frame> Replies, IDisposable Stop) OpenFileReplies(MessageId fileId)
    {
        var channel = System.Threading.Channels.Channel.CreateUnbounded<Frame>();
        _fileReplies[fileId] = channel;
        if (!IsOpen)
        {
            channel.Writer.TryComplete(new IOException($"the link to {User} is closed ({CloseReason})"));
        }

        return (channel.Reader, new Unsubscribe(() => _fileReplies.TryRemove(fileId, out _)));
    }

    /// <summary>Writes a file frame (UPLOAD_START, UPLOAD_CHUNK) on the link.</summary>
    public Task WriteFileFrameAsync(Frame frame, CancellationToken cancellationToken) => WriteAsync(frame, cancellationToken);

    public void Close(string reason)
    {
        CloseReason ??= reason;
        try
        {
            _lifetime.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close("closed");
        if (_idle is not null)
        {
            await _idle.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or NotSupportedException)
        {
        }

        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    private async Task WriteAsync(Frame frame, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        try
        {
            await _writeLock.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"the link to {User} is closed ({CloseReason})");
        }

        try
        {
            if (!IsOpen)
            {
                throw new IOException($"the link to {User} is closed ({CloseReason})");
            }

            await PeerFraming.WriteAsync(_stream, frame, linked.Token).ConfigureAwait(false);
            Interlocked.Exchange(ref _lastActivity, Environment.TickCount64);
        }
        catch (Exception exception) when (exception is ObjectDisposedException or NotSupportedException
            || (exception is OperationCanceledException && _lifetime.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            throw new IOException($"the link to {User} is closed ({CloseReason})", exception);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (!_lifetime.IsCancellationRequested)
            {
                var frame = await PeerFraming.ReadAsync(_stream, _options.MaxFrameLength, _lifetime.Token).ConfigureAwait(false);
                if (frame is null)
                {
                    CloseReason ??= "the peer closed the link";
                    return;
                }

                Interlocked.Exchange(ref _lastActivity, Environment.TickCount64);
                // File chunks are bounded by the file size limit, not by the chat rate (as on the server).
                if (frame is not FileChunkFrame && !await TakeTokenAsync().ConfigureAwait(false))
                {
                    await TryWriteErrorAsync(ErrorCode.RateLimited, "too many frames").ConfigureAwait(false);
                    CloseReason ??= "the peer flooded the link";
                    return;
                }

                switch (frame)
                {
                    case PeerMessageFrame message:
                        await _onMessage(this, message).ConfigureAwait(false);
                        await WriteAsync(new PeerAckFrame(message.Id), _lifetime.Token).ConfigureAwait(false);
                        break;
                    case PeerAckFrame ack:
                        if (_pending.TryGetValue(ack.Id, out var pending))
                        {
                            pending.TrySetResult();
                        }

                        break;
                    case UploadStartFrame or FileChunkFrame { Kind: FrameType.UploadChunk } when _onFileFrame is not null:
                        if (await _onFileFrame(this, frame).ConfigureAwait(false) is { } reply)
                        {
                            await WriteAsync(reply, _lifetime.Token).ConfigureAwait(false);
                        }

                        break;
                    case FileOffsetFrame { Kind: FrameType.UploadReady } or UploadDoneFrame or ErrorFrame { Id.IsNone: false }
                        when _fileReplies.TryGetValue(FileIdOf(frame), out var replies):
                        replies.Writer.TryWrite(frame);
                        break;
                    case ErrorFrame error:
                        CloseReason ??= $"the peer closed the link: {error.Message}";
                        return;
                    default:
                        await TryWriteErrorAsync(ErrorCode.ProtocolError, $"{frame.Type} is not allowed on a direct link").ConfigureAwait(false);
                        CloseReason ??= $"the peer sent {frame.Type}";
                        return;
                }
            }
        }
        catch (ProtocolException exception)
        {
            await TryWriteErrorAsync(exception.Code, exception.Message).ConfigureAwait(false);
            CloseReason ??= $"the peer broke the protocol: {exception.Message}";
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException
            or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            CloseReason ??= exception is OperationCanceledException ? "closed" : exception.Message;
        }
        finally
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new IOException($"the link to {User} closed ({CloseReason})"));
            }

            foreach (var replies in _fileReplies.Values)
            {
                replies.Writer.TryComplete(new IOException($"the link to {User} closed ({CloseReason})"));
            }

            try
            {
                _lifetime.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }

            try
            {
                await _stream.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or ObjectDisposedException or NotSupportedException)
            {
            }
        }
    }

    /// <summary>
    /// Token bucket over frames (security.md 27, as the server's rule 10): a burst, then the rate; a frame over the rate
    /// is delayed (this side stops reading, so TCP slows the peer down); only a long run of delayed frames in a row
    /// counts as a flood and ends the link (its unacknowledged messages then go through the server). A frame that
    /// passes without waiting in the middle of a flood neither adds to the run nor ends it: each wait oversleeps a
    /// little, and the surplus that leaves would otherwise restart the count at random, so whether a flood was closed
    /// depended on timer jitter. The run ends when the bucket has refilled completely, that is when the peer paused.
    /// </summary>
    private async Task<bool> TakeTokenAsync()
    {
        if (_options.RateLimitFramesPerSecond <= 0)
        {
            return true;
        }

        _tokens = Math.Min(_options.RateLimitBurst, _tokens + (_sinceRefill.Elapsed.TotalSeconds * _options.RateLimitFramesPerSecond));
        _sinceRefill.Restart();
        if (_tokens >= _options.RateLimitBurst)
        {
            _delayedInARow = 0;
        }

        if (_tokens >= 1)
        {
            _tokens--;
            return true;
        }

        if (++_delayedInARow > _options.RateLimitMaxDelayedFrames)
        {
            return false;
        }

        await Task.Delay(TimeSpan.FromSeconds((1 - _tokens) / _options.RateLimitFramesPerSecond), _lifetime.Token).ConfigureAwait(false);
        _tokens = Math.Min(_options.RateLimitBurst, _tokens + (_sinceRefill.Elapsed.TotalSeconds * _options.RateLimitFramesPerSecond)) - 1;
        _sinceRefill.Restart();
        return true;
    }

    private static MessageId FileIdOf(Frame frame) => frame switch
    {
        FileOffsetFrame offset => offset.FileId,
        UploadDoneFrame done => done.FileId,
        ErrorFrame error => error.Id,
        _ => MessageId.None,
    };

    private async Task TryWriteErrorAsync(ErrorCode code, string message)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await PeerFraming.WriteAsync(_stream, new ErrorFrame(code, MessageId.None, message), deadline.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException)
        {
        }
    }

    private sealed class Unsubscribe(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
