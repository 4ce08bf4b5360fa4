using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Authentication;
using Parley.Client;

namespace Parley.IntegrationTests.Faults;

/// <summary>
/// A sender under chaos: it makes a new message every <c>interval</c> while producing, keeps up to
/// <see cref="Window"/> of them in flight, and whenever its connection dies or stops making progress it reconnects
/// (with backoff) and sends every unacknowledged message again, in order, under its original id. Once told to stop
/// producing, it finishes when every message it made is acknowledged.
/// </summary>
public sealed class ChaosSender
{
    public const int Window = 32;

    /// <summary>No SEND_OK for this long while sends are in flight: the connection is given up.</summary>
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    private readonly string _recipient;
    private readonly TimeSpan _interval;
    private readonly Func<CancellationToken, Task<ParleyConnection>> _connect;
    private readonly Action<ChaosMessage> _onAcknowledged;
    private readonly List<ChaosMessage> _messages = [];
    private readonly ChaosBackoff _backoff = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentDictionary<string, int> _connectFailures = new();
    private volatile bool _producing = true;
    private long _nextCreate;
    private int _firstUnacknowledged;
    private int _sendAttempts;
    private int _resends;

    public ChaosSender(string user, string recipient, TimeSpan interval, Func<CancellationToken, Task<ParleyConnection>> connect,
        Action<ChaosMessage> onAcknowledged)
    {
        User = user;
        _recipient = recipient;
        _interval = interval;
        _connect = connect;
        _onAcknowledged = onAcknowledged;
    }

    public string User { get; }

    /// <summary>Every message made, in send order. Read it after <see cref="RunAsync"/> has completed.</summary>
    public IReadOnlyList<ChaosMessage> Messages => _messages;

    public int Logins { get; private set; }

    public int Stalls { get; private set; }

    /// <summary>Sends still pending well after their connection had ended (the client library should fail them).</summary>
    public int SendsHungAfterClose { get; private set; }

    public int SendAttempts => Volatile.Read(ref _sendAttempts);

    /// <summary>Sends of an id that had been sent before, on an earlier connection.</summary>
    public int Resends => Volatile.Read(ref _resends);

    /// <summary>Failed connection or login attempts, by exception type.</summary>
    public IReadOnlyDictionary<string, int> ConnectFailures => _connectFailures;

    /// <summary>Anything the server refused, or any unexpected exception: the test fails on these.</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    public void StopProducing() => _producing = false;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (_producing || !AllAcknowledged())
        {
            cancellationToken.ThrowIfCancellationRequested();
            ParleyConnection connection;
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(ConnectTimeout);
                connection = await _connect(deadline.Token);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && IsConnectFailure(exception))
            {
                _connectFailures.AddOrUpdate(exception.GetType().Name, 1, (_, n) => n + 1);
                if (exception is ParleyErrorException or ServerIdentityException)
                {
                    _errors.Enqueue($"{User}: login refused: {exception.Message}");
                }

                await _backoff.WaitAsync(cancellationToken);
                continue;
            }

            Logins++;
            _backoff.Succeeded();
            await using (connection)
            {
                await SendOnAsync(connection, cancellationToken);
            }

            if (_producing || !AllAcknowledged())
            {
                await _backoff.WaitAsync(cancellationToken); // the connection was lost: reconnect with backoff
            }
        }
    }

    private async Task SendOnAsync(ParleyConnection connection, CancellationToken cancellationToken)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var window = new SemaphoreSlim(Window); // not disposed: a hung send may still release it
        var inFlight = new List<Task>();
        var stalled = false;
        for (var i = _firstUnacknowledged; ; i++)
        {
            if (i == _messages.Count)
            {
                if (!_producing)
                {
                    break;
                }

                await PaceAsync(cancellationToken);
                _messages.Add(new ChaosMessage(User, i));
            }

            var message = _messages[i];
            if (message.Acknowledged)
            {
                continue;
            }

            if (!await window.WaitAsync(StallTimeout, cancellationToken))
            {
                stalled = true;
                break;
            }

            if (connection.Completion.IsCompleted)
            {
                window.Release();
                break;
            }

            if (message.Attempts++ > 0)
            {
                Interlocked.Increment(ref _resends);
            }

            Interlocked.Increment(ref _sendAttempts);
            inFlight.Add(SendOneAsync(connection, message, window, abandon.Token));
        }

        stalled = stalled || !await DrainAsync(inFlight, cancellationToken);
        if (stalled)
        {
            Stalls++;
            if (connection.Completion.IsCompleted)
            {
                SendsHungAfterClose += inFlight.Count(t => !t.IsCompleted);
            }

            await abandon.CancelAsync();
            await Task.WhenAll(inFlight).WaitAsync(StallTimeout, cancellationToken);
        }

        while (_firstUnacknowledged < _messages.Count && _messages[_firstUnacknowledged].Acknowledged)
        {
            _firstUnacknowledged++;
        }
    }

    private async Task SendOneAsync(ParleyConnection connection, ChaosMessage message, SemaphoreSlim window, CancellationToken cancellationToken)
    {
        try
        {
            await connection.SendAsync(message.Id, _recipient, message.Text, cancellationToken);
            message.MarkAcknowledged();
            _onAcknowledged(message);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // not acknowledged: sent again on the next connection
        }
        catch (ParleyErrorException exception)
        {
            _errors.Enqueue($"{message.Text}: refused with {exception.Code}: {exception.Message}");
        }
        catch (Exception exception)
        {
            _errors.Enqueue($"{message.Text}: {exception}");
        }
        finally
        {
            window.Release();
        }
    }

    /// <summary>Waits for every send to finish; false when none finished for <see cref="StallTimeout"/>.</summary>
    private static async Task<bool> DrainAsync(List<Task> inFlight, CancellationToken cancellationToken)
    {
        var pending = inFlight.Where(t => !t.IsCompleted).ToList();
        while (pending.Count > 0)
        {
            try
            {
                await Task.WhenAny(pending).WaitAsync(StallTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                return false;
            }

            pending.RemoveAll(t => t.IsCompleted);
        }

        return true;
    }

    /// <summary>Paces the making of new messages (not a wait for anything: the load the senders offer).</summary>
    private async Task PaceAsync(CancellationToken cancellationToken)
    {
        var now = Stopwatch.GetTimestamp();
        if (_nextCreate > now)
        {
            await Task.Delay(Stopwatch.GetElapsedTime(now, _nextCreate), cancellationToken);
        }

        _nextCreate = Math.Max(_nextCreate, now) + (long)(_interval.TotalSeconds * Stopwatch.Frequency);
    }

    private bool AllAcknowledged()
    {
        while (_firstUnacknowledged < _messages.Count && _messages[_firstUnacknowledged].Acknowledged)
        {
            _firstUnacknowledged++;
        }

        return _messages.Skip(_firstUnacknowledged).All(m => m.Acknowledged);
    }

    private static bool IsConnectFailure(Exception exception) =>
        exception is IOException or SocketException or AuthenticationException or OperationCanceledException
            or ObjectDisposedException or ParleyErrorException or ServerIdentityException;
}
