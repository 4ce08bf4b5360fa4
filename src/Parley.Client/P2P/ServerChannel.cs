using Parley.Protocol.Frames;

namespace Parley.Client.P2P;

/// <summary>
/// The P2P device's way to the server for everything but heartbeats: registering, lookups, fallback sends and
/// fetching what was parked. Opened on demand (TLS + RESUME with the device's token, rotated and saved), shared
/// by whatever needs it meanwhile, and closed <see cref="PeerOptions.ServerLinger"/> after its last use, so that the
/// device holds no idle connection to the server. One connection at a time, so the single-use resume token is
/// never raced. For a receiving device every connection first SYNCs from the saved cursor: opening it is also how
/// parked messages are fetched; entries are handed to the node, then acknowledged and the cursor saved.
/// </summary>
internal sealed class ServerChannel : IAsyncDisposable
{
    private readonly DeviceSession _session;
    private readonly DeviceHome _home;
    private readonly PeerOptions _options;
    private readonly Func<DeliverFrame, ValueTask>? _onEntry;
    private readonly Action<string> _status;
    private readonly SemaphoreSlim _open = new(1, 1);
    private readonly SemaphoreSlim _control = new(1, 1);
    private readonly Timer _linger;
    private ParleyConnection? _connection;
    private TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receive = Task.CompletedTask;
    private int _users;
    private long _lastUse;
    private bool _disposed;

    /// <param name="session">The device, for RESUME with its token.</param>
    /// <param name="home">Where the cursor is kept.</param>
    /// <param name="options">Linger time.</param>
    /// <param name="onEntry">Receives every log entry after the cursor; null for a device that does not receive (one-shot send).</param>
    /// <param name="status">Where status lines go.</param>
    public ServerChannel(DeviceSession session, DeviceHome home, PeerOptions options, Func<DeliverFrame, ValueTask>? onEntry, Action<string> status)
    {
        _session = session;
        _home = home;
        _options = options;
        _onEntry = onEntry;
        _status = status;
        var period = TimeSpan.FromMilliseconds(Math.Clamp(options.ServerLinger.TotalMilliseconds / 4, 50, 1000));
        _linger = new Timer(_ => _ = CloseIfIdleAsync(), null, period, period);
    }

    /// <summary>True while a connection to the server is open (tests and status).</summary>
    public bool IsConnected => _connection is { Completion.IsCompleted: false };

    /// <summary>Runs <paramref name="work"/> on the open connection, opening it first if needed.</summary>
    public async Task<T> UseAsync<T>(Func<ParleyConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        var connection = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await work(connection).ConfigureAwait(false);
        }
        finally
        {
            Release();
        }
    }

    /// <summary>A directory request (one at a time on a connection: they share the control slot).</summary>
    public Task<T> RequestAsync<T>(Func<ParleyConnection, Task<T>> request, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await _control.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await request(connection).ConfigureAwait(false);
            }
            finally
            {
                _control.Release();
            }
        }, cancellationToken);

    /// <summary>Connects (which SYNCs) and waits until everything parked on the server has been handed over.</summary>
    public Task CatchUpAsync(CancellationToken cancellationToken) =>
        UseAsync(async _ =>
        {
            await _synced.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _linger.DisposeAsync().ConfigureAwait(false);
        await _open.WaitAsync().ConfigureAwait(false);
        try
        {
            await CloseLockedAsync().ConfigureAwait(false);
        }
        finally
        {
            _open.Release();
        }
    }

    private async Task<ParleyConnection> AcquireAsync(CancellationToken cancellationToken)
    {
        await _open.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is not { Completion.IsCompleted: false })
            {
                await CloseLockedAsync().ConfigureAwait(false);
                _connection = await _session.ConnectAsync(cancellationToken).ConfigureAwait(false);
                if (_onEntry is not null)
                {
                    _synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _receive = ReceiveAsync(_connection, _synced);
                }
                else
                {
                    _synced.TrySetResult();
                }
            }

            Interlocked.Increment(ref _users);
            return _connection;
        }
        finally
        {
            _open.Release();
        }
    }

    private void Release()
    {
        Interlocked.Exchange(ref _lastUse, Environment.TickCount64);
        Interlocked.Decrement(ref _users);
    }

    private async Task CloseIfIdleAsync()
    {
        if (_connection is null || Volatile.Read(ref _users) > 0 ||
            Environment.TickCount64 - Interlocked.Read(ref _lastUse) < _options.ServerLinger.TotalMilliseconds)
        {
            return;
        }

        if (!await _open.WaitAsync(0).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            // Checked again under the lock: someone may have started using it meanwhile.
            if (Volatile.Read(ref _users) == 0 && Environment.TickCount64 - Interlocked.Read(ref _lastUse) >= _options.ServerLinger.TotalMilliseconds
                && (_synced.Task.IsCompleted || _connection is { Completion.IsCompleted: true }))
            {
                await CloseLockedAsync().ConfigureAwait(false);
            }
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            _open.Release();
        }
    }

    private async Task CloseLockedAsync()
    {
        var connection = _connection;
        _connection = null;
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await _receive.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// SYNC from the saved cursor; hand each newer entry to the node, in order; after each burst acknowledge and save
    /// the cursor. Live entries that arrive while the connection lingers are handled the same way.
    /// </summary>
    private async Task ReceiveAsync(ParleyConnection connection, TaskCompletionSource synced)
    {
        var cursor = _home.LoadCursor();
        var acknowledged = cursor;
        try
        {
            await connection.SyncAsync(cursor).ConfigureAwait(false);
            await foreach (var serverEvent in connection.Events.ReadAllAsync().ConfigureAwait(false))
            {
                Interlocked.Exchange(ref _lastUse, Environment.TickCount64);
                switch (serverEvent)
                {
                    case MessageEvent { Message: var message } when message.Sequence > cursor:
                        await _onEntry!(message).ConfigureAwait(false);
                        cursor = message.Sequence;
                        break;
                    case SyncedEvent:
                        synced.TrySetResult();
                        break;
                    case ClosedEvent { Error: { } error }:
                        _status($"the server closed the connection: {error.Message}");
                        break;
                }

                if (cursor > acknowledged && !connection.Events.TryPeek(out _))
                {
                    _home.SaveCursor(cursor);
                    acknowledged = cursor;
                    await connection.AckAsync(cursor).ConfigureAwait(false);
                }
            }
        }
        catch (IOException)
        {
            // closed; the next connection SYNCs from the saved cursor
        }
        finally
        {
            if (cursor > acknowledged)
            {
                _home.SaveCursor(cursor);
            }

            synced.TrySetException(new IOException("the connection to the server closed before catching up"));
        }
    }
}
