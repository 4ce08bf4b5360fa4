using System.Threading.RateLimiting;
using Parley.Protocol;

namespace Parley.Server.Connections;

/// <summary>
/// The per-connection inbound rate limit (security.md 10): token buckets for frames and for bytes. A frame over the
/// rate waits for its tokens (the read loop stops reading, so TCP pushes back on the sender); a connection that keeps
/// sending over the rate — <see cref="ServerOptions.RateLimitMaxDelayedFrames"/> delayed frames in a row — is closed
/// with RateLimited. One frame that gets through without waiting resets the count, so bursts are only slowed.
/// </summary>
internal sealed class InboundRateLimiter : IAsyncDisposable
{
    private readonly TokenBucketRateLimiter? _frames;
    private readonly TokenBucketRateLimiter? _bytes;
    private readonly int _maxDelayed;
    private int _delayedInARow;

    public InboundRateLimiter(ServerOptions options)
    {
        _maxDelayed = options.RateLimitMaxDelayedFrames;
        if (options.RateLimitFramesPerSecond > 0)
        {
            _frames = Bucket(Math.Max(options.RateLimitBurst, 1), options.RateLimitFramesPerSecond);
        }

        if (options.RateLimitBytesPerSecond > 0)
        {
            // The bucket holds at least one largest frame, or such a frame could never pass.
            _bytes = Bucket(Math.Max(options.Limits.MaxFrameLength + FrameCodec.LengthPrefixSize, options.RateLimitBytesPerSecond),
                options.RateLimitBytesPerSecond);
        }
    }

    /// <summary>Frames accepted so far (for tests and metrics).</summary>
    public long Accepted { get; private set; }

    /// <summary>
    /// Waits until a frame of <paramref name="length"/> bytes may be handled; throws RateLimited on a flood.
    /// <paramref name="morePending"/> says whether the client had already sent more bytes behind this frame.
    /// </summary>
    public async ValueTask AcquireAsync(int length, bool morePending, CancellationToken cancellationToken)
    {
        var waited = await TakeAsync(_frames, 1, cancellationToken).ConfigureAwait(false);
        waited |= await TakeAsync(_bytes, length, cancellationToken).ConfigureAwait(false);
        // Only frames delayed while the client had yet more queued behind them count; the count ends when the client
        // has nothing more pending (it is waiting for us, so it is not flooding). Frames that pass without waiting in
        // the middle of a flood (the bucket refills several tokens at a time) neither add nor reset.
        if (!morePending)
        {
            _delayedInARow = 0;
        }
        else if (waited)
        {
            _delayedInARow++;
        }

        if (_delayedInARow > _maxDelayed)
        {
            ProtocolException.Throw(ErrorCode.RateLimited, "sending too fast for too long; slow down");
        }

        Accepted++;
    }

    public async ValueTask DisposeAsync()
    {
        if (_frames is not null)
        {
            await _frames.DisposeAsync().ConfigureAwait(false);
        }

        if (_bytes is not null)
        {
            await _bytes.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Takes tokens, waiting if needed. True when it had to wait.</summary>
    private static async ValueTask<bool> TakeAsync(TokenBucketRateLimiter? bucket, int tokens, CancellationToken cancellationToken)
    {
        if (bucket is null)
        {
            return false;
        }

        using (var lease = bucket.AttemptAcquire(tokens))
        {
            if (lease.IsAcquired)
            {
                return false;
            }
        }

        using var waited = await bucket.AcquireAsync(tokens, cancellationToken).ConfigureAwait(false);
        if (!waited.IsAcquired)
        {
            ProtocolException.Throw(ErrorCode.RateLimited, "sending too fast; slow down");
        }

        return true;
    }

    /// <summary>A bucket refilled ten times a second, so waits are smooth rather than whole seconds.</summary>
    private static TokenBucketRateLimiter Bucket(int limit, int perSecond) => new(new TokenBucketRateLimiterOptions
    {
        TokenLimit = limit,
        TokensPerPeriod = Math.Max(perSecond / 10, 1),
        ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
        AutoReplenishment = true,
        QueueLimit = limit, // only the connection's own read loop ever waits, one frame at a time
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });
}
