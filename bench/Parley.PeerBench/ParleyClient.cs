using System.Buffers;
using System.Diagnostics;
using System.Text;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.PeerBench;

/// <summary>How a Parley client authenticates: a resume token (rotated by the server), a password, or a new account.</summary>
internal sealed record ParleyCredentials(string Device, string? Password, byte[]? Token, bool Register = false);

/// <summary>
/// Parley's real protocol (docs/protocol.md) with the codec of Parley.Protocol: TLS 1.3 with the server's key pinned
/// (ServerPinValidator, as the client library does), HELLO, then RESUME (or LOGIN/REGISTER), then SYNC from the head;
/// ready on SYNCED. A message is SEND {random id, partner, text}; the server stores it durably (SQLite WAL,
/// synchronous=FULL, group commit) before SEND_OK. DELIVERs from the partner count as deliveries; the copy of our own
/// message that the server also delivers to the sending device is ignored. After each read with new DELIVERs one
/// ACK of the highest sequence is sent, at most once per <see cref="AckDelay"/> (a timer sends one that is due when no
/// more reads come), as DeviceSession does with its default AckDelay. Unlike ParleyConnection (one flush per
/// frame), this driver writes all the SENDs a window allows in one TLS write, as the other drivers do.
/// </summary>
internal sealed class ParleyClient(string self, string partner, ParleyCredentials credentials) : BenchClient(self, partner)
{
    /// <summary>DeviceSession.DefaultAckDelay, the client library's.</summary>
    private static readonly TimeSpan AckDelay = TimeSpan.FromMilliseconds(20);
    private static readonly ProtocolLimits Limits = ProtocolLimits.Default;
    private readonly Lock _ackLock = new();
    private ulong _highest;
    private ulong _acknowledgedSequence;
    private long _ackDue;
    private ITimer? _ackTimer;
    private bool _synced;

    /// <summary>The token from AUTH_OK: the next RESUME of this device needs it.</summary>
    public byte[]? NewToken { get; private set; }

    public override bool Acknowledges => true;

    protected override void WriteLogin(IBufferWriter<byte> output) =>
        FrameCodec.Write(output, new HelloFrame(ProtocolVersion.Min, ProtocolVersion.Max, "peerbench"));

    protected override void WriteMessage(IBufferWriter<byte> output, ReadOnlySpan<byte> payload) =>
        FrameCodec.Write(output, new SendFrame(MessageId.NewTimeOrdered(), Partner, Encoding.ASCII.GetString(payload)));

    protected override int Parse(ReadOnlySpan<byte> input, IBufferWriter<byte> replies) => throw new NotSupportedException();

    protected override int Parse(ReadOnlySequence<byte> input, IBufferWriter<byte> replies)
    {
        var rest = input;
        while (FrameCodec.TryRead(ref rest, Limits.MaxFrameLength, Limits, out var frame))
        {
            switch (frame)
            {
                case DeliverFrame deliver:
                    lock (_ackLock)
                    {
                        if (_highest == _acknowledgedSequence)
                        {
                            _ackDue = Stopwatch.GetTimestamp() + (long)(AckDelay.TotalSeconds * Stopwatch.Frequency);
                        }

                        _highest = Math.Max(_highest, deliver.Sequence);
                    }

                    if (deliver.From == Partner)
                    {
                        OnDelivered(deliver.Text.AsSpan());
                    }

                    break;
                case SendOkFrame:
                    OnAcknowledged();
                    break;
                case ErrorFrame { Id.IsNone: false }:
                    OnRefused();
                    break;
                case ErrorFrame error:
                    Fail($"{error.Code}: {error.Message}");
                    break;
                case WelcomeFrame:
                    FrameCodec.Write(replies, credentials switch
                    {
                        { Register: true } => new CredentialsFrame(FrameType.Register, Self, credentials.Password!, credentials.Device),
                        { Token: { } token } => new ResumeFrame(Self, token, credentials.Device),
                        _ => new CredentialsFrame(FrameType.Login, Self, credentials.Password!, credentials.Device),
                    });
                    break;
                case AuthOkFrame ok:
                    NewToken = ok.Token;
                    FrameCodec.Write(replies, new SequenceFrame(FrameType.Sync, ok.Head));
                    break;
                case SequenceFrame { Kind: FrameType.Synced }:
                    // SYNCED's value is not ACKed: only sequences this connection was actually sent are.
                    _synced = true;
                    Ready();
                    break;
                case SequenceFrame { Kind: FrameType.Ping } ping:
                    FrameCodec.Write(replies, new SequenceFrame(FrameType.Pong, ping.Value));
                    break;
            }
        }

        if (_synced)
        {
            lock (_ackLock)
            {
                if (_highest > _acknowledgedSequence)
                {
                    var wait = Stopwatch.GetElapsedTime(_ackDue);
                    if (wait >= TimeSpan.Zero)
                    {
                        FrameCodec.Write(replies, new SequenceFrame(FrameType.Ack, _highest));
                        _acknowledgedSequence = _highest;
                    }
                    else
                    {
                        _ackTimer ??= TimeProvider.System.CreateTimer(_ => _ = SendDueAckAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                        _ackTimer.Change(-wait, Timeout.InfiniteTimeSpan);
                    }
                }
            }
        }

        return (int)(input.Length - rest.Length);
    }

    /// <summary>The timer's half of the delayed ACK: nothing more was read before it fell due.</summary>
    private async Task SendDueAckAsync()
    {
        ulong upTo;
        lock (_ackLock)
        {
            if (_highest <= _acknowledgedSequence)
            {
                return;
            }

            upTo = _acknowledgedSequence = _highest;
        }

        try
        {
            await SendFrameAsync(new SequenceFrame(FrameType.Ack, upTo));
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // the run is over or the connection dropped
        }
    }

    private Task SendFrameAsync(Frame frame) => WriteRawAsync(output => FrameCodec.Write(output, frame));
}
