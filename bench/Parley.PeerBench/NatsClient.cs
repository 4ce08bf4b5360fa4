using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Parley.PeerBench;

/// <summary>
/// NATS core (CONNECT, SUB u.SELF, PUB u.PARTNER) and, with <c>jetStream</c>, the same with a reply subject on every
/// PUB: the subject is captured by a file stream on <c>u.&gt;</c>, and JetStream answers each stored message on the
/// reply subject (ack.SELF). Messages are consumed with the plain core SUB on u.SELF (what the guide's recipe does);
/// the stream is written and acknowledged but not read back. The PING after SUB makes the PONG the "ready" signal: the
/// server has then processed CONNECT and SUB.
/// </summary>
internal sealed class NatsClient(string self, string partner, bool jetStream) : BenchClient(self, partner)
{
    private const int MessageSid = 1;
    private const int AckSid = 2;
    private const int RequestSid = 3;
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    private readonly byte[] _pubPrefix = Encoding.ASCII.GetBytes(jetStream ? $"PUB u.{partner} ack.{self} " : $"PUB u.{partner} ");
    private TaskCompletionSource<string>? _request;

    public override bool Acknowledges => jetStream;

    /// <summary>Creates the JetStream stream (file storage, 1 replica, subjects u.&gt;) with a request on this connection.</summary>
    public async Task<string> RequestAsync(string subject, string json, CancellationToken cancellationToken)
    {
        _request = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = Stream;
        var body = Encoding.UTF8.GetBytes(json);
        var head = Encoding.ASCII.GetBytes($"PUB {subject} req.{Self} {body.Length}\r\n");
        await stream.WriteAsync(head.Concat(body).Concat(Crlf).ToArray(), cancellationToken);
        return await _request.Task.WaitAsync(cancellationToken);
    }

    protected override void WriteLogin(IBufferWriter<byte> output)
    {
        var text = "CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"peerbench\",\"version\":\"1\",\"protocol\":1}\r\n"
            + $"SUB u.{Self} {MessageSid}\r\n" + (jetStream ? $"SUB ack.{Self} {AckSid}\r\nSUB req.{Self} {RequestSid}\r\n" : "") + "PING\r\n";
        output.Write(Encoding.ASCII.GetBytes(text));
    }

    protected override void WriteMessage(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        var span = output.GetSpan(_pubPrefix.Length + 12 + payload.Length);
        _pubPrefix.CopyTo(span);
        var at = _pubPrefix.Length;
        Utf8Formatter.TryFormat(payload.Length, span[at..], out var digits);
        at += digits;
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        payload.CopyTo(span[at..]);
        at += payload.Length;
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        output.Advance(at);
    }

    protected override int Parse(ReadOnlySpan<byte> input, IBufferWriter<byte> replies)
    {
        var used = 0;
        while (true)
        {
            var rest = input[used..];
            var end = rest.IndexOf(Crlf);
            if (end < 0)
            {
                return used;
            }

            var line = rest[..end];
            if (line.StartsWith("MSG "u8))
            {
                // MSG <subject> <sid> [reply-to] <#bytes>
                var lastSpace = line.LastIndexOf((byte)' ');
                if (!Utf8Parser.TryParse(line[(lastSpace + 1)..], out int length, out _))
                {
                    throw new IOException("bad MSG line");
                }

                if (rest.Length < end + 2 + length + 2)
                {
                    return used; // the payload is not all here yet
                }

                var payload = rest.Slice(end + 2, length);
                var sid = Sid(line);
                switch (sid)
                {
                    case MessageSid:
                        OnDelivered(payload);
                        break;
                    case AckSid when payload.IndexOf("\"error\""u8) >= 0:
                        OnRefused();
                        break;
                    case AckSid:
                        OnAcknowledged();
                        break;
                    case RequestSid:
                        _request?.TrySetResult(Encoding.UTF8.GetString(payload));
                        break;
                }

                used += end + 2 + length + 2;
                continue;
            }

            if (line.SequenceEqual("PING"u8))
            {
                replies.Write("PONG\r\n"u8);
            }
            else if (line.SequenceEqual("PONG"u8))
            {
                Ready();
            }
            else if (line.StartsWith("-ERR"u8))
            {
                Fail(Encoding.ASCII.GetString(line));
            }

            used += end + 2;
        }
    }

    /// <summary>The third field of a MSG line.</summary>
    private static int Sid(ReadOnlySpan<byte> line)
    {
        var afterVerb = line[4..];
        var afterSubject = afterVerb[(afterVerb.IndexOf((byte)' ') + 1)..];
        var space = afterSubject.IndexOf((byte)' ');
        return Utf8Parser.TryParse(afterSubject[..space], out int sid, out _) ? sid : 0;
    }
}
