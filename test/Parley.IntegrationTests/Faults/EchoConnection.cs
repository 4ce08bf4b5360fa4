using System.Net.Sockets;

namespace Parley.IntegrationTests.Faults;

/// <summary>One connection accepted by an <see cref="EchoServer"/>: what it received, and how it ended.</summary>
public sealed class EchoConnection
{
    private readonly MemoryStream _received = new();
    private readonly TaskCompletionSource<SocketError> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reads;

    /// <summary>How many reads returned data (a sliced stream shows up as many small reads).</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Completes when the peer closed: <see cref="SocketError.Success"/> for an orderly close, else the error (ConnectionReset).</summary>
    public Task<SocketError> Ended => _ended.Task;

    public byte[] Received
    {
        get
        {
            lock (_received)
            {
                return _received.ToArray();
            }
        }
    }

    /// <summary>Waits, without polling, until at least <paramref name="count"/> bytes have arrived.</summary>
    public async Task<byte[]> WaitForBytesAsync(int count, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            var received = Received;
            if (received.Length >= count)
            {
                return received;
            }

            try
            {
                await Task.WhenAny(changed, Ended).WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{received.Length} of {count} bytes arrived within {timeout}");
            }

            if (Ended.IsCompleted && Received.Length < count)
            {
                throw new IOException($"the connection ended after {Received.Length} of {count} bytes");
            }
        }
    }

    internal async Task RunAsync(Socket socket, CancellationToken cancellationToken)
    {
        using (socket)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                    if (read == 0)
                    {
                        _ended.TrySetResult(SocketError.Success);
                        return;
                    }

                    lock (_received)
                    {
                        _received.Write(buffer, 0, read);
                    }

                    Interlocked.Increment(ref _reads);
                    Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                    var echo = buffer.AsMemory(0, read);
                    while (!echo.IsEmpty)
                    {
                        echo = echo[await socket.SendAsync(echo, SocketFlags.None, cancellationToken)..];
                    }
                }
            }
            catch (SocketException exception)
            {
                _ended.TrySetResult(exception.SocketErrorCode);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                _ended.TrySetResult(SocketError.OperationAborted);
            }
        }
    }
}
