using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Threading.Channels;
using Parley.Security;

namespace Parley.TlsRelay;

/// <summary>
/// One client of the relay, handled as Parley's ClientConnection handles one: a PipeReader with zero-byte reads over
/// the (TLS) stream, and an unbounded single-reader channel drained by a write loop that flushes once per batch. It
/// speaks only what PeerBench's MQTT driver sends: CONNECT (answered CONNACK), SUBSCRIBE to u/NAME (SUBACK; the
/// connection then receives what is published to that topic), PUBLISH at QoS 0 (forwarded as is), PINGREQ.
/// </summary>
internal sealed class RelayConnection(Socket socket, SslStreamCertificateContext? certificate, ConcurrentDictionary<string, RelayConnection> topics)
{
    private static readonly byte[] ConnAck = [0x20, 0x02, 0x00, 0x00];
    private static readonly byte[] PingResp = [0xD0, 0x00];
    private readonly Channel<byte[]> _outbound = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private string? _topic;

    public async Task RunAsync()
    {
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            if (certificate is not null)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = certificate,
                    ClientCertificateRequired = false,
                    AllowRenegotiation = false,
                    EnabledSslProtocols = SslProtocols.None,
                });
                TlsIdleBuffers.TryEnable(tls);
            }

            var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true, useZeroByteReads: true));
            var writeLoop = WriteLoopAsync(PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));
            await ReadLoopAsync(reader);
            _outbound.Writer.TryComplete();
            await writeLoop;
        }
        catch (Exception exception) when (exception is IOException or SocketException or AuthenticationException or ObjectDisposedException or InvalidDataException)
        {
        }
        finally
        {
            if (_topic is not null)
            {
                topics.TryRemove(new KeyValuePair<string, RelayConnection>(_topic, this));
            }

            _outbound.Writer.TryComplete();
            await stream.DisposeAsync();
        }
    }

    private async Task ReadLoopAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            while (TryReadPacket(ref buffer, out var packet))
            {
                Handle(packet);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>One whole packet (fixed header included) copied out of the pipe, as Parley decodes each frame into its own objects.</summary>
    private static bool TryReadPacket(ref ReadOnlySequence<byte> buffer, out byte[] packet)
    {
        packet = [];
        Span<byte> head = stackalloc byte[5];
        var have = (int)Math.Min(buffer.Length, head.Length);
        if (have < 2)
        {
            return false;
        }

        buffer.Slice(0, have).CopyTo(head);
        int remaining = 0, multiplier = 1, at = 1;
        while (true)
        {
            if (at >= have)
            {
                if (at >= 5)
                {
                    throw new InvalidDataException("remaining length over four bytes");
                }

                return false;
            }

            var digit = head[at++];
            remaining += (digit & 0x7F) * multiplier;
            multiplier *= 128;
            if ((digit & 0x80) == 0)
            {
                break;
            }
        }

        if (buffer.Length < at + remaining)
        {
            return false;
        }

        packet = buffer.Slice(0, at + remaining).ToArray();
        buffer = buffer.Slice(at + remaining);
        return true;
    }

    private void Handle(byte[] packet)
    {
        var headerLength = 2;
        while ((packet[headerLength - 1] & 0x80) != 0)
        {
            headerLength++;
        }

        var body = packet.AsSpan(headerLength);
        switch (packet[0] >> 4)
        {
            case 1: // CONNECT
                _outbound.Writer.TryWrite(ConnAck);
                break;
            case 8: // SUBSCRIBE: packet id, then topic filters (one here)
                var length = BinaryPrimitives.ReadUInt16BigEndian(body[2..]);
                _topic = Encoding.ASCII.GetString(body.Slice(4, length));
                topics[_topic] = this;
                _outbound.Writer.TryWrite([0x90, 0x03, body[0], body[1], 0x00]);
                break;
            case 3: // PUBLISH at QoS 0: topic, payload; forwarded unchanged to the topic's subscriber
                var topic = Encoding.ASCII.GetString(body.Slice(2, BinaryPrimitives.ReadUInt16BigEndian(body)));
                if (topics.TryGetValue(topic, out var target))
                {
                    target._outbound.Writer.TryWrite(packet);
                }

                break;
            case 12: // PINGREQ
                _outbound.Writer.TryWrite(PingResp);
                break;
        }
    }

    private async Task WriteLoopAsync(PipeWriter writer)
    {
        var reader = _outbound.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var packet))
            {
                writer.Write(packet);
            }

            if ((await writer.FlushAsync()).IsCompleted)
            {
                return;
            }
        }
    }
}
