using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Parley.LoadTest;

/// <summary>
/// A TCP relay on 127.0.0.1 that holds every chunk for a fixed one-way delay before passing it on, in order, in both
/// directions: a long link without netem (the kernel here has no sch_netem). Bandwidth is not limited.
/// </summary>
internal sealed class DelayRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly TimeSpan _oneWay;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public DelayRelay(IPEndPoint target, TimeSpan oneWay)
    {
        _target = target;
        _oneWay = oneWay;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                _ = RelayAsync(client);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (client)
        {
            client.NoDelay = true;
            try
            {
                await Task.Delay(_oneWay, _stop.Token); // the SYN's way there; the connect below adds the way back
                await server.ConnectAsync(_target, _stop.Token);
                await Task.Delay(_oneWay, _stop.Token);
                await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Reads from <paramref name="from"/> and writes each chunk to <paramref name="to"/> once it is due.</summary>
    private async Task PumpAsync(Socket from, Socket to)
    {
        var queue = Channel.CreateUnbounded<(byte[] Data, long Due)>();
        var writer = Task.Run(async () =>
        {
            await foreach (var (data, due) in queue.Reader.ReadAllAsync(_stop.Token))
            {
                var wait = TimeSpan.FromTicks(due - DateTime.UtcNow.Ticks);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _stop.Token);
                }

                if (data.Length == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(data, SocketFlags.None, _stop.Token);
            }
        });
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                queue.Writer.TryWrite((buffer.AsSpan(0, read).ToArray(), DateTime.UtcNow.Ticks + _oneWay.Ticks));
                if (read == 0)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        queue.Writer.TryComplete();
        try
        {
            await writer;
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _listener.Dispose();
        _stop.Dispose();
    }
}
