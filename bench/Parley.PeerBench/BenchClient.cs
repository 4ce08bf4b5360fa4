using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Parley.Security;

namespace Parley.PeerBench;

/// <summary>
/// One benchmark client of any protocol: a socket (or a TLS stream over it), a read loop that parses what the server
/// sends, and batched writes. A subclass writes its login and messages and parses the server's bytes; this class counts
/// deliveries and acknowledgements and applies the end-to-end window. Every client sends only to its partner and
/// receives only from it, so a delivery returns one window credit to the partner.
/// </summary>
internal abstract class BenchClient : IAsyncDisposable
{
    /// <summary>Digits of the Stopwatch timestamp at the start of every payload (then filler to the message size).</summary>
    public const int StampDigits = 20;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    /// <summary>
    /// The read buffer's first and busy sizes. A connection starts with 4 KiB and takes 256 KiB after its first read
    /// that fills the buffer, so W1's busy connections read as before while W3's idle ones (a login's replies are a
    /// few hundred bytes) hold 4 KiB: with 256 KiB each from the start, a W3 pass of 2,000 connections allocated (and
    /// the GC zeroed) 500 MiB, which cost the client more CPU than the logins it measures, for every system alike.
    /// </summary>
    private const int FirstReadBuffer = 4 * 1024, BusyReadBuffer = 256 * 1024;

    private readonly ArrayBufferWriter<byte> _out = new(4 * 1024); // grows to the largest window written
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lifetime = new();
    private Socket? _socket;
    private Task _readLoop = Task.CompletedTask;
    private long _delivered;
    private long _acknowledged;
    private long _refused;

    protected BenchClient(string self, string partner)
    {
        Self = self;
        Partner = partner;
    }

    public string Self { get; }

    public string Partner { get; }

    /// <summary>The partner's window: a delivery here releases one of its slots.</summary>
    public SemaphoreSlim? PartnerWindow { get; set; }

    /// <summary>When set, the one-way latency (Stopwatch ticks) of each delivery is added here.</summary>
    public List<long>? Latencies { get; set; }

    /// <summary>When set (W2's <c>--trace</c>), each delivery's send timestamp is added here, in step with <see cref="Latencies"/>.</summary>
    public List<long>? SendStamps { get; set; }

    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Server acknowledgements of our sends (Parley SEND_OK, JetStream publish acks); 0 for the others.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Sends the server refused (an ERROR or a JetStream error ack).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Whether this protocol acknowledges each message to its sender.</summary>
    public virtual bool Acknowledges => false;

    protected Stream Stream { get; private set; } = Stream.Null;

    protected CancellationToken Lifetime => _lifetime.Token;

    public Task Completion => _readLoop;

    /// <summary>TCP connect, optional TLS, the protocol's login and subscription; completes when messages can flow.</summary>
    public async Task ConnectAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await _socket.ConnectAsync(server, cancellationToken);
        Stream = await WrapAsync(new NetworkStream(_socket, ownsSocket: true), cancellationToken);
        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
        await WriteAsync(WriteLogin, cancellationToken);
        await _ready.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Writes <paramref name="count"/> messages to the partner in one write.</summary>
    public Task SendAsync(int count, int size, CancellationToken cancellationToken) =>
        WriteAsync(output =>
        {
            Span<byte> payload = stackalloc byte[size];
            for (var i = 0; i < count; i++)
            {
                FillPayload(payload);
                WriteMessage(output, payload);
            }
        }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _lifetime.CancelAsync();
        try
        {
            _socket?.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        await Stream.DisposeAsync();
        try
        {
            await _readLoop;
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        _lifetime.Dispose();
        _writeLock.Dispose();
    }

    /// <summary>
    /// When set, the connection is TLS with the server's key pinned to this fingerprint (Parley always; a peer started
    /// with its TLS listener, the "-tls" systems); otherwise plain TCP.
    /// </summary>
    public string? TlsFingerprint { get; init; }

    /// <summary>
    /// TLS as the client library does it (ParleyConnection.ConnectAsync), for every system alike: the validator's
    /// options, so a reconnect from this process resumes the TLS session as a library client's would (when the server
    /// issues tickets), and the pin confirmed after the handshake.
    /// </summary>
    private async ValueTask<Stream> WrapAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        if (TlsFingerprint is null)
        {
            return stream;
        }

        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
        var validator = new ServerPinValidator(TlsFingerprint);
        await tls.AuthenticateAsClientAsync(validator.CreateClientOptions("127.0.0.1"), cancellationToken);
        if (!validator.ConfirmPinned(tls))
        {
            throw new AuthenticationException($"server key {validator.PresentedFingerprint} is not the pinned {TlsFingerprint}");
        }

        return tls;
    }

    /// <summary>The bytes that log in and subscribe; the parser calls <see cref="Ready"/> when the server has answered.</summary>
    protected abstract void WriteLogin(IBufferWriter<byte> output);

    /// <summary>One message to <see cref="Partner"/>.</summary>
    protected abstract void WriteMessage(IBufferWriter<byte> output, ReadOnlySpan<byte> payload);

    /// <summary>
    /// Parses what arrived; returns how many bytes were used (the rest is kept for the next read). Replies the
    /// protocol needs (PONG, ACK) go to <paramref name="replies"/>, written after the parse.
    /// </summary>
    protected abstract int Parse(ReadOnlySpan<byte> input, IBufferWriter<byte> replies);

    /// <summary>The Parley driver parses from a sequence; the others from a span.</summary>
    protected virtual int Parse(ReadOnlySequence<byte> input, IBufferWriter<byte> replies) => Parse(input.FirstSpan, replies);

    protected void Ready() => _ready.TrySetResult();

    protected void Fail(string why) => _ready.TrySetException(new IOException($"{Self}: {why}"));

    protected void OnAcknowledged() => Interlocked.Increment(ref _acknowledged);

    protected void OnRefused() => Interlocked.Increment(ref _refused);

    /// <summary>A message from the partner arrived: count it, return the partner's window slot, note the latency.</summary>
    protected void OnDelivered(ReadOnlySpan<byte> payload)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _delivered);
        PartnerWindow?.Release();
        if (Latencies is { } latencies && payload.Length >= StampDigits
            && long.TryParse(payload[..StampDigits], NumberStyles.None, CultureInfo.InvariantCulture, out var stamp))
        {
            lock (latencies)
            {
                latencies.Add(now - stamp);
                SendStamps?.Add(stamp);
            }
        }
    }

    protected void OnDelivered(ReadOnlySpan<char> text)
    {
        Span<byte> stamp = stackalloc byte[StampDigits];
        var length = Math.Min(text.Length, StampDigits);
        for (var i = 0; i < length; i++)
        {
            stamp[i] = (byte)text[i];
        }

        OnDelivered(stamp[..length]);
    }

    /// <summary>The Stopwatch timestamp in <see cref="StampDigits"/> ASCII digits, then 'm' up to the size.</summary>
    private static void FillPayload(Span<byte> payload)
    {
        payload.Fill((byte)'m');
        Stopwatch.GetTimestamp().TryFormat(payload, out _, "D20", CultureInfo.InvariantCulture);
    }

    /// <summary>Writes frames outside the read loop (a delayed ACK's timer), serialised with every other write.</summary>
    protected Task WriteRawAsync(Action<IBufferWriter<byte>> write) => WriteAsync(write, Lifetime);

    private async Task WriteAsync(Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _out.ResetWrittenCount();
            write(_out);
            await Stream.WriteAsync(_out.WrittenMemory, cancellationToken);
            await Stream.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[FirstReadBuffer];
        var filled = 0;
        var replies = new ArrayBufferWriter<byte>(1024);
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var room = buffer.Length - filled;
                var read = await Stream.ReadAsync(buffer.AsMemory(filled), _lifetime.Token);
                if (read == 0)
                {
                    Fail("the server closed the connection");
                    return;
                }

                filled += read;
                if (read == room && buffer.Length < BusyReadBuffer)
                {
                    Array.Resize(ref buffer, BusyReadBuffer); // more was probably waiting: a busy connection
                }

                replies.ResetWrittenCount();
                var used = Parse(new ReadOnlySequence<byte>(buffer, 0, filled), replies);
                if (used > 0)
                {
                    Buffer.BlockCopy(buffer, used, buffer, 0, filled - used);
                    filled -= used;
                }

                if (replies.WrittenCount > 0)
                {
                    var bytes = replies.WrittenMemory.ToArray();
                    await WriteAsync(output => output.Write(bytes), _lifetime.Token);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            Fail(exception.Message);
        }
        catch (Exception exception)
        {
            Fail(exception.ToString());
            throw;
        }
    }
}
