using System.Collections.Concurrent;
using System.Threading.Channels;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Connections;
using Parley.Storage;

namespace Parley.Server.Sessions;

/// <summary>
/// A logged-in (user, device) on one connection, and its place in the user's log. Delivery is pull-based: the
/// router only tells the session how far the log has grown (and hands it the new entries to spare a read); one
/// delivery loop per session then sends every entry after the last one it sent, in order, reading from the store
/// whatever it was not handed. Catch-up after SYNC and live push are thus the same code, with no gap and no
/// reordering whatever the timing.
/// </summary>
internal sealed class Session
{
    /// <summary>Entries kept in memory for a session before it falls back to reading the store.</summary>
    private const int MaxStashed = 4096;
    private const int ReadBatch = 256;

    private readonly IChatStore _store;
    private ConcurrentQueue<LogEntry>? _stash; // created at the first entry: an idle session should cost little
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private int _stashed;
    private ulong _knownHead;
    private ulong _lastQueued;
    private ulong _savedCursor;
    private ulong _syncTarget;
    private int _syncState; // 0 = not asked, 1 = catching up, 2 = live
    private int _delivering; // 1 while the delivery loop or OnAppended's direct path queues entries: one at a time

    public Session(string user, string device, ClientConnection connection, IChatStore store)
    {
        User = user;
        Device = device;
        Connection = connection;
        _store = store;
    }

    public string User { get; }

    public string Device { get; }

    public ClientConnection Connection { get; }

    /// <summary>The users whose presence this session follows (WATCH). Read and changed only under the registry's lock.</summary>
    public HashSet<string> Watched { get; } = new(StringComparer.Ordinal);

    /// <summary>The highest sequence queued to this device; it may not acknowledge beyond it.</summary>
    public ulong LastQueued => Volatile.Read(ref _lastQueued);

    /// <summary>Called by the router, on the store's writer thread, for each new entry of this user's log. Never blocks.</summary>
    public void OnAppended(LogEntry entry)
    {
        if (TryQueueDirectly(entry))
        {
            InterlockedMax(ref _knownHead, entry.Sequence);
            return;
        }

        if (Interlocked.Increment(ref _stashed) <= MaxStashed)
        {
            LazyInitializer.EnsureInitialized(ref _stash).Enqueue(entry);
        }
        else
        {
            Interlocked.Decrement(ref _stashed);
        }

        // Raised after the entry is stashed, so a loop that sees the new head finds the entry there.
        InterlockedMax(ref _knownHead, entry.Sequence);
        _wake.Writer.TryWrite(true);
    }

    /// <summary>
    /// The common case of a live session with nothing pending: queues the entry's DELIVER on the writer thread rather than
    /// waking the delivery loop for it, which spares one thread-pool hop per entry (docs/performance.md, session 10).
    /// Only when the entry is the very next one, the loop is not running and the connection has a delivery credit free;
    /// otherwise the entry goes the usual way, through the stash and the loop.
    /// </summary>
    private bool TryQueueDirectly(LogEntry entry)
    {
        if (Volatile.Read(ref _syncState) != 2 || Volatile.Read(ref _stashed) != 0 || Interlocked.CompareExchange(ref _delivering, 1, 0) != 0)
        {
            return false;
        }

        try
        {
            var previous = LastQueued;
            if (entry.Sequence != previous + 1)
            {
                return false;
            }

            // Raised before the frame is queued, as in the loop: the client may acknowledge it at once.
            Volatile.Write(ref _lastQueued, entry.Sequence);
            if (Connection.TryQueueDelivery(ToFrame(entry)))
            {
                return true;
            }

            Volatile.Write(ref _lastQueued, previous);
            return false;
        }
        finally
        {
            Volatile.Write(ref _delivering, 0);
        }
    }

    /// <summary>Handles SYNC: deliver everything after <paramref name="after"/>, then SYNCED, then live.</summary>
    public async Task StartSyncAsync(ulong after, CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _syncState, 1, 0) != 0)
        {
            ProtocolException.Throw(ErrorCode.ProtocolError, "SYNC may be sent once per session");
        }

        var head = await _store.GetHeadAsync(User, cancellationToken).ConfigureAwait(false);
        // A cursor past the end (the server was restored from an older copy) restarts at the end: the client
        // deduplicates by message id, so nothing is shown twice.
        var start = Math.Min(after, head);
        Volatile.Write(ref _lastQueued, start);
        Volatile.Write(ref _savedCursor, start);
        _syncTarget = head;
        InterlockedMax(ref _knownHead, head);
        _ = Task.Run(() => DeliveryLoopAsync(cancellationToken), CancellationToken.None);
        _wake.Writer.TryWrite(true);
        await _store.SaveCursorAsync(User, Device, start, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The connection is closing: the delivery loop ends at its next wait. Completing its wake-up channel ends it
    /// without the OperationCanceledException that the connection's cancellation would otherwise throw in it, one
    /// for every disconnect.
    /// </summary>
    public void Stop() => _wake.Writer.TryComplete();

    /// <summary>Handles ACK: the device has everything up to <paramref name="upTo"/>.</summary>
    public void Acknowledge(ulong upTo)
    {
        if (upTo > LastQueued)
        {
            ProtocolException.Throw(ErrorCode.ProtocolError, $"ACK {upTo} is beyond the last delivered sequence {LastQueued}");
        }

        if (upTo > Volatile.Read(ref _savedCursor))
        {
            Volatile.Write(ref _savedCursor, upTo);
            // Not awaited: the read loop must not wait for the disk per ACK. A lost cursor write only means the device
            // is redelivered a few messages it already has, which it deduplicates.
            _ = _store.SaveCursorAsync(User, Device, upTo).ContinueWith(
                static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private async Task DeliveryLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _wake.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _wake.Reader.TryRead(out _);
                EnterDelivering();
                try
                {
                    await DeliverPendingAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    // An entry that OnAppended could not queue while this ran was stashed and woke the loop again.
                    Volatile.Write(ref _delivering, 0);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the connection closed
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Connection.Abort(ErrorCode.InternalError, "delivery failed; reconnect to resume", exception);
        }
    }

    /// <summary>Queues every entry after the last one queued, then SYNCED once the catch-up is done. Runs under <see cref="_delivering"/>.</summary>
    private async Task DeliverPendingAsync(CancellationToken cancellationToken)
    {
        while (LastQueued < Volatile.Read(ref _knownHead))
        {
            var next = TakeStashed(LastQueued + 1);
            IReadOnlyList<LogEntry> batch = next is not null
                ? [next]
                : await _store.ReadLogAsync(User, LastQueued, ReadBatch, cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var entry in batch)
            {
                if (entry.Sequence <= LastQueued)
                {
                    continue;
                }

                // Raised before the frame is queued: the client may read and acknowledge it before this loop runs
                // again. If queuing fails the connection is closing anyway.
                Volatile.Write(ref _lastQueued, entry.Sequence);
                if (!await Connection.QueueDeliveryAsync(ToFrame(entry), cancellationToken).ConfigureAwait(false))
                {
                    return; // slow consumer: the connection is closing, the rest stays in the log
                }
            }
        }

        if (_syncState == 1 && LastQueued >= _syncTarget)
        {
            // SYNCED first, then live: OnAppended queues directly only once the session is live, so no DELIVER of a
            // live entry can overtake SYNCED.
            Connection.Send(new SequenceFrame(FrameType.Synced, LastQueued));
            Volatile.Write(ref _syncState, 2);
        }
    }

    /// <summary>
    /// Takes <see cref="_delivering"/> for the loop. The direct path holds it for the few instructions that queue one
    /// frame and never waits while holding it, so spinning here is short.
    /// </summary>
    private void EnterDelivering()
    {
        var spinner = default(SpinWait);
        while (Interlocked.CompareExchange(ref _delivering, 1, 0) != 0)
        {
            spinner.SpinOnce();
        }
    }

    private static Frame ToFrame(LogEntry entry) => entry.File is { } offer
        ? new DeliverFileFrame(entry.Sequence, entry.Id, entry.From, entry.To, entry.Time, offer)
        : new DeliverFrame(entry.Sequence, entry.Id, entry.From, entry.To, entry.Time, entry.Text);

    private LogEntry? TakeStashed(ulong sequence)
    {
        var stash = Volatile.Read(ref _stash);
        if (stash is null)
        {
            return null;
        }

        while (stash.TryPeek(out var entry) && entry.Sequence < sequence)
        {
            if (stash.TryDequeue(out _))
            {
                Interlocked.Decrement(ref _stashed);
            }
        }

        if (stash.TryPeek(out var head) && head.Sequence == sequence && stash.TryDequeue(out var taken))
        {
            Interlocked.Decrement(ref _stashed);
            return taken;
        }

        return null;
    }

    private static void InterlockedMax(ref ulong location, ulong value)
    {
        var current = Volatile.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
