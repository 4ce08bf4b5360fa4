using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.IntegrationTests.Faults;

/// <summary>
/// An online recipient under chaos. After any failure it reconnects (with backoff), sends SYNC from the last sequence
/// it processed, and ACKs as it goes. Every <c>restartEvery</c>-th connection it instead behaves as a client that was
/// restarted and kept only what it had acknowledged: it SYNCs from its last ACK, so the server redelivers what was
/// shown but not yet acknowledged. Its display is modelled as a client that shows an entry only when its sequence is
/// above the last one shown; everything else that arrives is counted as a protocol-level duplicate. It also checks,
/// as things arrive, the rules that make that dedupe sufficient: within one connection sequences strictly increase,
/// a duplicate arrives only on a connection that asked for it (SYNC below the last shown sequence: a redelivery after
/// a reconnect), a redelivered sequence carries the id it carried before, and one message id never appears at two
/// sequences.
/// </summary>
public sealed class ChaosRecipient
{
    private const int AckEvery = 64;
    private static readonly TimeSpan AckDelay = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Nothing at all arrived for this long: the connection is assumed dead (a black hole) and replaced.</summary>
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(15);

    private readonly Func<CancellationToken, Task<ParleyConnection>> _connect;
    private readonly int _restartEvery;
    private readonly ChaosBackoff _backoff = new();
    private readonly object _gate = new();
    private readonly List<DeliverFrame> _shown = [];
    private readonly HashSet<(string From, MessageId Id)> _shownIds = [];
    private readonly HashSet<MessageId> _shownMessageIds = [];
    private readonly Dictionary<ulong, MessageId> _shownAt = [];
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentDictionary<string, int> _endings = new();
    private ulong _lastShown;
    private ulong _lastAcknowledged;
    private HashSet<MessageId>? _awaited;
    private TaskCompletionSource? _allArrived;

    public ChaosRecipient(Func<CancellationToken, Task<ParleyConnection>> connect, int restartEvery)
    {
        _connect = connect;
        _restartEvery = restartEvery;
    }

    public int Logins { get; private set; }

    public int FailedConnects { get; private set; }

    /// <summary>DELIVER frames received, duplicates included.</summary>
    public int Deliveries { get; private set; }

    /// <summary>DELIVERs at or below the last shown sequence: hidden by the display's dedupe.</summary>
    public int Duplicates { get; private set; }

    public int Acks { get; private set; }

    public int Syncs { get; private set; }

    /// <summary>Connections that SYNCed from the last ACK rather than the last shown sequence (a modelled restart).</summary>
    public int RestartSyncs { get; private set; }

    /// <summary>How each connection ended (server error code, exception type, idle).</summary>
    public IReadOnlyDictionary<string, int> Endings => _endings;

    /// <summary>Broken delivery rules seen while receiving: the test fails on these.</summary>
    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>What the display showed, in order. Read it after <see cref="RunAsync"/> has completed.</summary>
    public IReadOnlyList<DeliverFrame> Shown => _shown;

    /// <summary>Completes when every one of <paramref name="ids"/> has been shown.</summary>
    public async Task WaitForAllAsync(IEnumerable<MessageId> ids, TimeSpan timeout)
    {
        Task arrived;
        lock (_gate)
        {
            _awaited = ids.Where(id => !_shownMessageIds.Contains(id)).ToHashSet();
            _allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_awaited.Count == 0)
            {
                _allArrived.SetResult();
            }

            arrived = _allArrived.Task;
        }

        try
        {
            await arrived.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            int missing;
            lock (_gate)
            {
                missing = _awaited.Count;
            }

            throw new TimeoutException($"{missing} acknowledged messages were not delivered within {timeout}");
        }
    }

    /// <summary>Receives until <paramref name="stop"/> is cancelled; then returns (it does not throw for that).</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        await Task.Yield();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                ParleyConnection connection;
                try
                {
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    deadline.CancelAfter(ConnectTimeout);
                    connection = await _connect(deadline.Token);
                }
                catch (Exception exception) when (!stop.IsCancellationRequested && IsTransient(exception))
                {
                    FailedConnects++;
                    _endings.AddOrUpdate("connect failed: " + Describe(exception), 1, (_, n) => n + 1);
                    await _backoff.WaitAsync(stop);
                    continue;
                }

                Logins++;
                _backoff.Succeeded();
                await using (connection)
                {
                    string ending;
                    try
                    {
                        ending = await ReceiveOnAsync(connection, Logins, stop);
                    }
                    catch (Exception exception) when (!stop.IsCancellationRequested && IsTransient(exception))
                    {
                        ending = exception.GetType().Name;
                    }

                    _endings.AddOrUpdate(ending, 1, (_, n) => n + 1);
                }

                await _backoff.WaitAsync(stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>One connection: SYNC, then show and ACK until it ends. Returns how it ended.</summary>
    private async Task<string> ReceiveOnAsync(ParleyConnection connection, int connectionNumber, CancellationToken stop)
    {
        var restarted = _restartEvery > 0 && connectionNumber % _restartEvery == 0;
        var after = restarted ? _lastAcknowledged : _lastShown;
        var shownBefore = _lastShown;
        using (var write = Deadline(stop, WriteTimeout))
        {
            await connection.SyncAsync(after, write.Token);
        }

        Syncs++;
        RestartSyncs += restarted ? 1 : 0;
        ulong lastOnConnection = 0;
        ulong acknowledged = 0;
        var unacknowledged = 0;
        // ACK what was shown, but never beyond what this connection delivered (the server refuses that).
        async Task AcknowledgeAsync()
        {
            var upTo = Math.Min(Volatile.Read(ref _lastShown), lastOnConnection);
            if (upTo > acknowledged)
            {
                using var write = Deadline(stop, WriteTimeout);
                await connection.AckAsync(upTo, write.Token);
                acknowledged = upTo;
                _lastAcknowledged = Math.Max(_lastAcknowledged, upTo);
                Acks++;
            }

            unacknowledged = 0;
        }

        while (true)
        {
            ServerEvent? serverEvent;
            if (!connection.Events.TryRead(out serverEvent))
            {
                // Batched ACKs: after AckEvery messages, or once the stream has been quiet for AckDelay.
                var quietFor = unacknowledged > 0 ? AckDelay : IdleTimeout;
                using var quiet = Deadline(stop, quietFor);
                try
                {
                    serverEvent = await connection.Events.ReadAsync(quiet.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    if (unacknowledged == 0)
                    {
                        return "idle";
                    }

                    await AcknowledgeAsync();
                    continue;
                }
                catch (ChannelClosedException)
                {
                    return "events ended";
                }
            }

            switch (serverEvent)
            {
                case MessageEvent { Message: var message }:
                    Deliveries++;
                    if (message.Sequence <= lastOnConnection)
                    {
                        _violations.Enqueue($"connection {connectionNumber}: sequence {message.Sequence} arrived after {lastOnConnection}");
                    }

                    lastOnConnection = Math.Max(lastOnConnection, message.Sequence);
                    if (message.Sequence <= after || (message.Sequence <= Volatile.Read(ref _lastShown) && message.Sequence > shownBefore))
                    {
                        _violations.Enqueue($"connection {connectionNumber} (SYNC {after}): sequence {message.Sequence} was not asked for again");
                    }

                    Show(message);
                    if (++unacknowledged >= AckEvery)
                    {
                        await AcknowledgeAsync();
                    }

                    break;
                case SyncedEvent:
                    await AcknowledgeAsync();
                    break;
                case ClosedEvent closed:
                    return closed.Error is { } error ? error.Code.ToString() : closed.Exception?.GetType().Name ?? "closed";
            }
        }
    }

    /// <summary>The display: show only what is above the last sequence shown.</summary>
    private void Show(DeliverFrame message)
    {
        lock (_gate)
        {
            if (message.Sequence <= _lastShown)
            {
                Duplicates++;
                if (_shownAt.TryGetValue(message.Sequence, out var before) && before != message.Id)
                {
                    _violations.Enqueue($"sequence {message.Sequence} was {before} and is now redelivered as {message.Id}");
                }

                return;
            }

            if (!_shownIds.Add((message.From, message.Id)))
            {
                _violations.Enqueue($"message {message.Id} from {message.From} shown again at a new sequence {message.Sequence}");
            }

            _shownMessageIds.Add(message.Id);
            _shown.Add(message);
            _shownAt[message.Sequence] = message.Id;
            Volatile.Write(ref _lastShown, message.Sequence);
            if (_awaited is not null && _awaited.Remove(message.Id) && _awaited.Count == 0)
            {
                _allArrived!.TrySetResult();
            }
        }
    }

    private static CancellationTokenSource Deadline(CancellationToken stop, TimeSpan timeout)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(timeout);
        return deadline;
    }

    private static string Describe(Exception exception) =>
        exception is ParleyErrorException refused ? $"{nameof(ParleyErrorException)} {refused.Code}" : exception.GetType().Name;

    private static bool IsTransient(Exception exception) =>
        exception is IOException or SocketException or AuthenticationException or OperationCanceledException or ObjectDisposedException
            or ParleyErrorException;
}
