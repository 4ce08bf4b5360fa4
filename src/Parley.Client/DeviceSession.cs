using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>
/// A device of a home, logged in: connects and resumes with the stored token (saving the rotated one at once),
/// reconnects with backoff after a lost connection, catches up from the stored cursor, and sends with retries under
/// the same message id, so a message is stored once however often the connection drops.
/// </summary>
public sealed class DeviceSession : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private readonly DeviceHome _home;
    private readonly DeviceRole _role;
    private readonly FileStream _lock;
    private TaskCompletionSource<ParleyConnection> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ParleyConnection? _connection;

    /// <summary>
    /// The (sender, id) of the entries shown lately. A log may hold one message twice when a cluster's stream leader
    /// died between storing a copy and acknowledging it (docs/topology.md); the second copy is then not shown.
    /// </summary>
    private readonly RecentIds _recent = new(4096);

    /// <summary>Users whose presence this device follows; sent again after every reconnect (the server forgets).</summary>
    private readonly HashSet<string> _watched = new(StringComparer.Ordinal);

    private DeviceSession(DeviceHome home, DeviceRole role, DeviceProfile profile, FileStream homeLock)
    {
        _home = home;
        _role = role;
        _lock = homeLock;
        Profile = profile;
    }

    public DeviceProfile Profile { get; }

    public string Device => DeviceHome.DeviceFor(Profile, _role);

    /// <summary>The default <see cref="AckDelay"/>: short enough that a receipt is not noticeably late.</summary>
    public static readonly TimeSpan DefaultAckDelay = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How long the receive loop may hold back the ACK of what it has shown, so that a busy conversation costs the
    /// server one ACK per interval instead of one per message (TCP's delayed ACK). The cursor is saved locally at once
    /// whatever this is; only the server's copy of it (quota, receipts to the sender, unread counts) lags. Zero
    /// acknowledges after every burst of frames.
    /// </summary>
    public TimeSpan AckDelay { get; set; } = DefaultAckDelay;

    /// <summary>The last sequence shown on this device (interactive role).</summary>
    public ulong Cursor { get; private set; }

    /// <summary>Called when the connection drops and when it is back, for status lines.</summary>
    public event Action<string>? StatusChanged;

    /// <summary>
    /// Opens the device of <paramref name="role"/>. The interactive device is used by one process at a time (a
    /// second gets a clear error); one-shot commands queue for theirs.
    /// </summary>
    public static async Task<DeviceSession> OpenAsync(DeviceHome home, DeviceRole role, CancellationToken cancellationToken = default)
    {
        var profile = home.LoadProfile() ?? throw new NotLoggedInException();
        FileStream homeLock;
        if (role == DeviceRole.Interactive)
        {
            homeLock = home.TryLock(role) ?? throw new InvalidOperationException(
                $"another parley process is using {home.Path} (chat or listen); use that one, or another --home");
        }
        else
        {
            homeLock = await home.LockAsync(role, cancellationToken).ConfigureAwait(false);
        }

        return new DeviceSession(home, role, profile, homeLock) { Cursor = home.LoadCursor() };
    }

    /// <summary>
    /// Registers or logs in with a password, pins the server key (only when <paramref name="acceptNewServerKey"/> and
    /// none is pinned yet), and stores the profile and a token for each role of the home.
    /// </summary>
    public static Task<DeviceProfile> LoginAsync(DeviceHome home, ServerAddress server, string user, string password,
        bool register, bool acceptNewServerKey, CancellationToken cancellationToken = default) =>
        LoginAsync(home, [server], user, password, register, acceptNewServerKey, cancellationToken);

    /// <summary>
    /// As above, for the nodes of a cluster: logs in on the first that answers, and with
    /// <paramref name="acceptNewServerKey"/> also pins the keys of the others it can reach, so a later failover to
    /// them is not refused as an unknown server.
    /// </summary>
    public static async Task<DeviceProfile> LoginAsync(DeviceHome home, IReadOnlyList<ServerAddress> servers, string user, string password,
        bool register, bool acceptNewServerKey, CancellationToken cancellationToken = default)
    {
        home.EnsureExists();
        var previous = home.LoadProfile();
        var serverText = ServerList.Format(servers);
        var sameAccount = previous is not null && previous.Server == serverText && Names.TryNormalizeUser(user, out var normalized) && previous.User == normalized;
        var device = sameAccount ? previous!.Device : DeviceHome.NewDeviceId();
        var trust = ServerTrust.Pinned(home.KnownServers, acceptNewServerKey);
        AuthOkFrame interactive;
        await using (var connection = await ServerList.ConnectAsync(servers, trust, cancellationToken).ConfigureAwait(false))
        {
            interactive = register
                ? await connection.RegisterAsync(user, password, device, cancellationToken).ConfigureAwait(false)
                : await connection.LoginAsync(user, password, device, cancellationToken).ConfigureAwait(false);
        }

        if (acceptNewServerKey && servers.Count > 1)
        {
            foreach (var other in servers)
            {
                try
                {
                    await using var pin = await ParleyConnection.ConnectAsync(other, trust, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is SocketException or IOException or TimeoutException)
                {
                    // down now: pinned on first use later only with --accept-new-server-key
                }
            }
        }

        var profile = new DeviceProfile(serverText, interactive.User, device);
        home.SaveToken(DeviceRole.Interactive, interactive.Token);
        await using (var connection = await ServerList.ConnectAsync(servers, ServerTrust.Pinned(home.KnownServers, false), cancellationToken).ConfigureAwait(false))
        {
            var oneShot = await connection.LoginAsync(interactive.User, password, DeviceHome.DeviceFor(profile, DeviceRole.OneShot), cancellationToken).ConfigureAwait(false);
            home.SaveToken(DeviceRole.OneShot, oneShot.Token);
        }

        if (!sameAccount)
        {
            home.SaveCursor(0);
        }

        home.SaveProfile(profile);
        return profile;
    }

    /// <summary>Connects and resumes once. Throws <see cref="NotLoggedInException"/> when the token is refused.</summary>
    public Task<ParleyConnection> ConnectAsync(CancellationToken cancellationToken = default) => ConnectAsync(syncAfter: null, cancellationToken);

    /// <summary>
    /// Connects and resumes in one round trip after TLS (HELLO and RESUME in one write, and SYNC from
    /// <paramref name="syncAfter"/> with them when given: <see cref="ParleyConnection.ConnectAndResumeAsync"/>).
    /// </summary>
    private async Task<ParleyConnection> ConnectAsync(ulong? syncAfter, CancellationToken cancellationToken)
    {
        var token = _home.LoadToken(_role) ?? throw new NotLoggedInException();
        ParleyConnection connection;
        try
        {
            (connection, var ok) = await ServerList.ConnectAndResumeAsync(ServerList.Parse(Profile.Server), ServerTrust.Pinned(_home.KnownServers, false),
                Profile.User, token, Device, syncAfter, cancellationToken).ConfigureAwait(false);
            _home.SaveToken(_role, ok.Token);
        }
        catch (ParleyErrorException error) when (error.Code == ErrorCode.AuthFailed)
        {
            // The connection is already closed and disposed (the server closes it: the SYNC behind the RESUME came
            // before any login).
            throw new NotLoggedInException($"the server no longer accepts this device's login ({error.Message}); run `parley login` again");
        }

        // Published before the watch list is read, so a WatchAsync meanwhile either lands in this snapshot or sends on
        // this connection itself (both is harmless: the server answers an add of a watched user again).
        _connection = connection;
        string[] watched;
        lock (_watched)
        {
            watched = [.. _watched];
        }

        if (watched.Length > 0)
        {
            await connection.WatchAsync(watched, add: true, cancellationToken).ConfigureAwait(false);
        }

        _connected.TrySetResult(connection);
        return connection;
    }

    /// <summary>
    /// Follows the presence of <paramref name="users"/> (PresenceEvent for each, now and on every change) on this
    /// connection and every later one. Users already followed are not sent again. Not connected: sent on connect.
    /// </summary>
    public async Task WatchAsync(IEnumerable<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        List<string> added;
        lock (_watched)
        {
            added = users.Where(_watched.Add).ToList();
        }

        if (added.Count > 0 && _connection is { Completion.IsCompleted: false } connection)
        {
            try
            {
                await connection.WatchAsync(added, add: true, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // the connection dropped: the next one sends the whole list
            }
        }
    }

    /// <summary>
    /// Sends once durably: retries on a lost connection (reconnecting) with the same id until the server acknowledges
    /// or refuses it, or <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async Task<SendOkFrame> SendAsync(MessageId id, string to, string text, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var connection = await CurrentConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await connection.SendAsync(id, to, text, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                if (_role == DeviceRole.OneShot)
                {
                    await ReconnectWithBackoffAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await WaitForNewConnectionAsync(connection, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// The receive loop of the interactive device: SYNC from the cursor, hand every entry after it to
    /// <paramref name="onMessage"/> exactly once and in order, acknowledge and save the cursor after each burst, and
    /// reconnect with backoff when the connection drops. Without <paramref name="follow"/> it returns once caught up.
    /// </summary>
    public Task ReceiveAsync(Func<DeliverFrame, ValueTask> onMessage, Action<ServerEvent>? onEvent, bool follow, CancellationToken cancellationToken = default) =>
        ReceiveEntriesAsync(entry => onMessage(entry.Message), onEvent, follow, cancellationToken);

    /// <summary>
    /// As <see cref="ReceiveAsync"/>, with the whole <see cref="MessageEvent"/> (file offers have <see cref="MessageEvent.File"/>).
    /// </summary>
    public async Task ReceiveEntriesAsync(Func<MessageEvent, ValueTask> onEntry, Action<ServerEvent>? onEvent, bool follow, CancellationToken cancellationToken = default)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ParleyConnection connection;
            try
            {
                connection = _connection is { Completion.IsCompleted: false } current ? current : await ConnectAsync(Cursor, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(250);
            }
            catch (Exception exception) when (follow && IsTransient(exception))
            {
                StatusChanged?.Invoke($"cannot reach {Profile.Server} ({exception.Message}); retrying in {backoff.TotalSeconds:0.#} s");
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                continue;
            }

            var acknowledged = Cursor;
            ClosedEvent? closed = null;
            try
            {
                if (!connection.SyncSent) // a reconnect sent it with its login
                {
                    await connection.SyncAsync(Cursor, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (IOException)
            {
                // The connection died at once; its ClosedEvent below says why, and the loop reconnects.
            }

            var events = connection.Events;
            var saved = Cursor;
            var ackDue = 0L;
            while (true)
            {
                if (!events.TryRead(out var serverEvent))
                {
                    var pending = Cursor > acknowledged;
                    if (pending && Stopwatch.GetElapsedTime(ackDue) >= TimeSpan.Zero)
                    {
                        acknowledged = Cursor;
                        await TryAckAsync(connection, Cursor).ConfigureAwait(false);
                        continue;
                    }

                    // With an ACK pending, wait for more frames only until it is due (a delayed ACK, as TCP's).
                    if (!await WaitForEventsAsync(events, pending ? -Stopwatch.GetElapsedTime(ackDue) : Timeout.InfiniteTimeSpan, cancellationToken)
                            .ConfigureAwait(false))
                    {
                        if (events.Completion.IsCompleted)
                        {
                            break;
                        }
                    }

                    continue;
                }

                switch (serverEvent)
                {
                    case MessageEvent { Message: var message } entry:
                        if (message.Sequence > Cursor)
                        {
                            if (_recent.Add((message.From, message.Id)))
                            {
                                await onEntry(entry).ConfigureAwait(false);
                            }

                            if (Cursor == acknowledged)
                            {
                                ackDue = Stopwatch.GetTimestamp() + (long)(AckDelay.TotalSeconds * Stopwatch.Frequency);
                            }

                            Cursor = message.Sequence;
                        }

                        break;
                    case SyncedEvent:
                        onEvent?.Invoke(serverEvent);
                        break;
                    case ClosedEvent end:
                        closed = end;
                        break;
                    default:
                        onEvent?.Invoke(serverEvent);
                        break;
                }

                // The cursor is saved here after every burst, so what was shown is never shown again after a crash;
                // only the ACK to the server waits for AckDelay.
                if (Cursor > saved && !events.TryPeek(out _))
                {
                    saved = Cursor;
                    _home.SaveCursor(Cursor);
                }

                if (serverEvent is SyncedEvent && !follow)
                {
                    // Leaving: what was shown is acknowledged now rather than after the delay.
                    if (Cursor > saved)
                    {
                        _home.SaveCursor(Cursor);
                    }

                    if (Cursor > acknowledged)
                    {
                        await TryAckAsync(connection, Cursor).ConfigureAwait(false);
                    }

                    return;
                }
            }

            if (Cursor > saved)
            {
                _home.SaveCursor(Cursor);
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            ResetConnected();
            if (closed?.Error is { Code: ErrorCode.Conflict } conflict)
            {
                throw new ParleyErrorException(conflict.Code, "this device logged in elsewhere; stopping (" + conflict.Message + ")");
            }

            if (!follow)
            {
                throw new IOException(closed?.Error?.Message ?? "the connection closed before catching up");
            }

            StatusChanged?.Invoke($"disconnected: {closed?.Error?.Message ?? closed?.Exception?.Message ?? "connection lost"}; reconnecting");
        }
    }

    /// <summary>The current connection, waiting for the receive loop to (re)connect if needed.</summary>
    public Task<ParleyConnection> ConnectedAsync(CancellationToken cancellationToken = default) => CurrentConnectionAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        await _lock.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Errors worth retrying: the server is down or restarting, the network dropped.</summary>
    public static bool IsTransient(Exception exception) =>
        exception is IOException or SocketException or TimeoutException ||
        exception is ParleyErrorException { Code: ErrorCode.ServerShuttingDown or ErrorCode.Timeout or ErrorCode.SlowConsumer };

    private async Task<ParleyConnection> CurrentConnectionAsync(CancellationToken cancellationToken)
    {
        if (_connection is { Completion.IsCompleted: false } connection)
        {
            return connection;
        }

        if (_role == DeviceRole.OneShot)
        {
            await ReconnectWithBackoffAsync(cancellationToken).ConfigureAwait(false);
            return _connection!;
        }

        return await _connected.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitForNewConnectionAsync(ParleyConnection old, CancellationToken cancellationToken)
    {
        while (_connection == old || _connection is null)
        {
            await _connected.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (_connection != old)
            {
                return;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReconnectWithBackoffAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            if (_connection is not null)
            {
                await _connection.DisposeAsync().ConfigureAwait(false);
                _connection = null;
            }

            try
            {
                await ConnectAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception exception) when (IsTransient(exception))
            {
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private void ResetConnected()
    {
        _connection = null;
        if (_connected.Task.IsCompleted)
        {
            _connected = new TaskCompletionSource<ParleyConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>True when events can be read; false when <paramref name="timeout"/> passed or the channel completed.</summary>
    private static async ValueTask<bool> WaitForEventsAsync(ChannelReader<ServerEvent> events, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return await events.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
        }

        if (timeout <= TimeSpan.Zero)
        {
            return events.TryPeek(out _);
        }

        using var due = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        due.CancelAfter(timeout);
        try
        {
            return await events.WaitToReadAsync(due.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task TryAckAsync(ParleyConnection connection, ulong upTo)
    {
        try
        {
            await connection.AckAsync(upTo).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // the connection dropped; the next SYNC starts from the saved cursor anyway
        }
    }
}
