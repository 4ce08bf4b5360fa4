using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Parley.IntegrationTests.Faults;

/// <summary>A TCP echo server on 127.0.0.1:0 that records what each connection received (the far end of proxy tests).</summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<EchoConnection> _accepted = Channel.CreateUnbounded<EchoConnection>();
    private readonly List<Task> _running = [];
    private readonly Task _acceptLoop;

    public EchoServer()
    {
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The next connection the server accepts.</summary>
    public async Task<EchoConnection> NextConnectionAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        return await _accepted.Reader.ReadAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Task[] running;
        lock (_running)
        {
            running = [_acceptLoop, .. _running];
        }

        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            socket.NoDelay = true;
            var connection = new EchoConnection();
            lock (_running)
            {
                _running.Add(connection.RunAsync(socket, _stop.Token));
            }

            _accepted.Writer.TryWrite(connection);
        }
    }
}
