using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Parley.IntegrationTests.Faults;

/// <summary>
/// An in-process TCP proxy for fault injection, in the manner of Toxiproxy (security.md 30: `tc netem` is not available
/// on this kernel). It listens on 127.0.0.1:0 and forwards every accepted connection to one loopback target. Each
/// direction has a set of <see cref="Toxics"/> (latency and jitter, bandwidth, slicer, limit_data, black hole, reset)
/// that may be changed at any time, including while connections are open. It can also record every byte clients send
/// (upstream), for tests that look at what goes over the wire.
/// Bounded: loopback only, at most <see cref="MaxConnections"/> connections at once (more are reset at accept), at
/// most <see cref="MaxCaptureBytes"/> captured, and disposing it closes every connection and waits for its tasks.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    public const int MaxConnections = 64;
    public const int MaxCaptureBytes = 16 * 1024 * 1024;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly bool _captureUpstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, ProxyLink> _links = new();
    private readonly ConcurrentDictionary<long, Task> _handlers = new();
    private readonly List<CaptureBuffer> _captures = [];
    private Task _acceptLoop = Task.CompletedTask;
    private Toxics _upstream = Toxics.None;
    private Toxics _downstream = Toxics.None;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextId;
    private long _accepted;
    private long _refused;
    private long _resets;
    private long _cuts;
    private long _forwardedUp;
    private long _forwardedDown;
    private long _droppedUp;
    private long _droppedDown;
    private int _captureBudget = MaxCaptureBytes;
    private int _disposed;

    private FaultProxy(IPEndPoint target, bool captureUpstream)
    {
        _target = target;
        _captureUpstream = captureUpstream;
        _listener = new TcpListener(IPAddress.Loopback, 0);
    }

    /// <summary>Starts a proxy on 127.0.0.1 with a free port, forwarding to <paramref name="target"/> (loopback only).</summary>
    public static FaultProxy Start(IPEndPoint target, bool captureUpstream = false)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!IPAddress.IsLoopback(target.Address))
        {
            throw new ArgumentException($"a fault proxy forwards to loopback addresses only, not {target}", nameof(target));
        }

        var proxy = new FaultProxy(target, captureUpstream);
        proxy._listener.Start();
        proxy._acceptLoop = Task.Run(proxy.AcceptLoopAsync);
        return proxy;
    }

    /// <summary>Starts a proxy to 127.0.0.1:<paramref name="targetPort"/>.</summary>
    public static FaultProxy Start(int targetPort, bool captureUpstream = false) =>
        Start(new IPEndPoint(IPAddress.Loopback, targetPort), captureUpstream);

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public int Port => EndPoint.Port;

    /// <summary>Connections accepted and forwarded so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Connections refused at accept (over <see cref="MaxConnections"/>, or the target did not answer).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Connections open now.</summary>
    public int Active => _links.Count;

    /// <summary>Connections closed abruptly (reset toxic or <see cref="ResetAll"/>).</summary>
    public long Resets => Interlocked.Read(ref _resets);

    /// <summary>Connections closed by limit_data.</summary>
    public long Cuts => Interlocked.Read(ref _cuts);

    public long BytesForwarded(ToxicDirection direction) =>
        Interlocked.Read(ref direction == ToxicDirection.Upstream ? ref _forwardedUp : ref _forwardedDown);

    public long BytesDropped(ToxicDirection direction) =>
        Interlocked.Read(ref direction == ToxicDirection.Upstream ? ref _droppedUp : ref _droppedDown);

    /// <summary>What each connection sent upstream, in the order the connections were accepted (when capturing).</summary>
    public IReadOnlyList<byte[]> UpstreamCaptures
    {
        get
        {
            lock (_captures)
            {
                return _captures.Select(c => c.ToArray()).ToList();
            }
        }
    }

    /// <summary>True when the capture budget ran out and some upstream bytes were not recorded.</summary>
    public bool CaptureTruncated
    {
        get
        {
            lock (_captures)
            {
                return _captures.Any(c => c.Truncated);
            }
        }
    }

    public Toxics Get(ToxicDirection direction) =>
        Volatile.Read(ref direction == ToxicDirection.Upstream ? ref _upstream : ref _downstream);

    /// <summary>Replaces the toxics of one direction; open connections apply them from their next piece of data.</summary>
    public void Set(ToxicDirection direction, Toxics toxics)
    {
        ArgumentNullException.ThrowIfNull(toxics);
        Volatile.Write(ref direction == ToxicDirection.Upstream ? ref _upstream : ref _downstream, toxics);
        Signal();
    }

    /// <summary>Applies the same toxics both ways (each direction keeps its own budgets and timers).</summary>
    public void SetBoth(Toxics toxics)
    {
        Set(ToxicDirection.Upstream, toxics);
        Set(ToxicDirection.Downstream, toxics);
    }

    /// <summary>Removes every toxic, both ways.</summary>
    public void Clear() => SetBoth(Toxics.None);

    /// <summary>Resets (RST) every open connection now; returns how many.</summary>
    public int ResetAll()
    {
        var count = 0;
        foreach (var link in _links.Values)
        {
            link.Reset();
            count++;
        }

        return count;
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, re-checking it whenever the proxy's state changes (a connection
    /// accepted or closed, bytes forwarded or dropped, toxics changed): no polling interval.
    /// </summary>
    public async Task WaitUntilAsync(Func<FaultProxy, bool> condition, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (condition(this))
            {
                return;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"the proxy did not reach the expected state within {timeout}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var link in _links.Values)
        {
            link.Close();
        }

        try
        {
            await Task.WhenAll([_acceptLoop, .. _handlers.Values]).WaitAsync(DisposeTimeout);
        }
        catch (TimeoutException)
        {
            // Every task ends once its sockets are closed; this only bounds a test that is failing anyway.
        }

        _stop.Dispose();
    }

    internal void OnReset()
    {
        Interlocked.Increment(ref _resets);
        Signal();
    }

    internal void OnCut()
    {
        Interlocked.Increment(ref _cuts);
        Signal();
    }

    internal void OnForwarded(ToxicDirection direction, int bytes)
    {
        Interlocked.Add(ref direction == ToxicDirection.Upstream ? ref _forwardedUp : ref _forwardedDown, bytes);
        Signal();
    }

    internal void OnDropped(ToxicDirection direction, int bytes)
    {
        Interlocked.Add(ref direction == ToxicDirection.Upstream ? ref _droppedUp : ref _droppedDown, bytes);
        Signal();
    }

    private void Signal() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private int TakeCaptureBudget(int wanted)
    {
        while (true)
        {
            var left = Volatile.Read(ref _captureBudget);
            var granted = Math.Min(left, wanted);
            if (Interlocked.CompareExchange(ref _captureBudget, left - granted, left) == left)
            {
                return granted;
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var id = Interlocked.Increment(ref _nextId);
            var handler = HandleAsync(id, client);
            _handlers[id] = handler;
            if (handler.IsCompleted)
            {
                _handlers.TryRemove(id, out _); // it finished before it was recorded
            }
        }
    }

    private async Task HandleAsync(long id, Socket client)
    {
        await Task.Yield(); // the accept loop goes on at once
        try
        {
            if (_links.Count >= MaxConnections)
            {
                Refuse(client);
                return;
            }

            var server = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                using var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                connectDeadline.CancelAfter(ConnectTimeout);
                await server.ConnectAsync(_target, connectDeadline.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException)
            {
                server.Dispose();
                Refuse(client);
                return;
            }

            CaptureBuffer? capture = null;
            if (_captureUpstream)
            {
                capture = new CaptureBuffer(TakeCaptureBudget);
                lock (_captures)
                {
                    _captures.Add(capture);
                }
            }

            var link = new ProxyLink(this, client, server, capture);
            _links[id] = link;
            Interlocked.Increment(ref _accepted);
            Signal();
            if (_stop.IsCancellationRequested)
            {
                link.Close(); // disposed while connecting
            }

            await link.RunAsync();
        }
        finally
        {
            _links.TryRemove(id, out _);
            _handlers.TryRemove(id, out _);
            Signal();
        }
    }

    private void Refuse(Socket client)
    {
        Interlocked.Increment(ref _refused);
        try
        {
            client.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }

        client.Dispose();
    }
}
