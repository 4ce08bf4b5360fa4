using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Parley.Server.Connections;

namespace Parley.Server.SeedCompat;

/// <summary>
/// The opt-in listener for the design note's old client (<c>parley serve --seed-compat HOST:PORT</c>, off by default;
/// docs/seed-compat.md). Plain TCP, no TLS and no password — that is the note's format — so its users are guests.
/// Connections count against the same caps as Parley's (<see cref="ConnectionLimiter"/>, checked at accept).
/// </summary>
internal sealed class SeedCompatListener(ConnectionServices services, IPEndPoint endPoint)
{
    private readonly ConcurrentDictionary<GuestSession, Task> _sessions = new();
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;

    /// <summary>Where it listens, with the real port when port 0 was asked for.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_listener?.LocalEndpoint ?? throw new InvalidOperationException("not started"));

    public void Start()
    {
        _listener = new TcpListener(endPoint);
        _listener.Start(backlog: 256);
        Log.SeedCompatListening(services.Logger, _listener.LocalEndpoint);
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>Stops accepting, tells every guest the server is going away, and waits for them up to the shutdown grace.</summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        await _acceptLoop.ConfigureAwait(false);
        foreach (var session in _sessions.Keys)
        {
            session.Close("the server is shutting down");
        }

        try
        {
            await Task.WhenAll(_sessions.Values).WaitAsync(services.Options.ShutdownGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptSocketAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            var address = (socket.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
            if (services.Limiter.TryOpen(address) is { } refusal)
            {
                Log.ConnectionRefused(services.Logger, address, refusal);
                socket.Dispose();
                continue;
            }

            socket.NoDelay = true;
            // The old client never sends anything while its user is silent, so an idle timeout would drop quiet guests;
            // keep-alive finds the peers that are really gone.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 60);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 10);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 6);
            services.Metrics.ConnectionOpened();
            var session = new GuestSession(services, socket, address);
            _sessions[session] = RunTrackedAsync(session);
        }
    }

    private async Task RunTrackedAsync(GuestSession session)
    {
        await Task.Yield();
        try
        {
            await session.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _sessions.TryRemove(session, out _);
            services.Metrics.ConnectionClosed();
        }
    }
}
