using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Parley.PeerBench;

/// <summary>
/// MQTT 3.1.1 at QoS 0: CONNECT (clean session, no keep-alive), SUBSCRIBE u/SELF, PUBLISH u/PARTNER. Ready on
/// SUBACK. QoS 0 has no acknowledgement, so the end-to-end window is the only flow control, as for IRC and NATS core.
/// </summary>
internal sealed class MqttClient(string self, string partner) : BenchClient(self, partner)
{
    private readonly byte[] _topic = Encoding.ASCII.GetBytes($"u/{partner}");

    protected override void WriteLogin(IBufferWriter<byte> output)
    {
        var id = Encoding.ASCII.GetBytes(Self);
        // CONNECT: "MQTT", level 4, flags 0x02 (clean session), keep-alive 0 (off), client id.
        var variable = new List<byte> { 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 0x02, 0, 0 };
        AddString(variable, id);
        Packet(output, 0x10, variable);
        // SUBSCRIBE packet id 1, u/SELF at QoS 0.
        var subscribe = new List<byte> { 0, 1 };
        AddString(subscribe, Encoding.ASCII.GetBytes($"u/{Self}"));
        subscribe.Add(0);
        Packet(output, 0x82, subscribe);
    }

    protected override void WriteMessage(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        var remaining = 2 + _topic.Length + payload.Length;
        var span = output.GetSpan(5 + remaining);
        span[0] = 0x30;
        var at = 1 + WriteLength(span[1..], remaining);
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)_topic.Length);
        at += 2;
        _topic.CopyTo(span[at..]);
        at += _topic.Length;
        payload.CopyTo(span[at..]);
        output.Advance(at + payload.Length);
    }

    protected override int Parse(ReadOnlySpan<byte> input, IBufferWriter<byte> replies)
    {
        var used = 0;
        while (true)
        {
            var rest = input[used..];
            if (rest.Length < 2 || !TryReadLength(rest[1..], out var remaining, out var lengthBytes) || rest.Length < 1 + lengthBytes + remaining)
            {
                return used;
            }

            var body = rest.Slice(1 + lengthBytes, remaining);
            switch (rest[0] >> 4)
            {
                case 2: // CONNACK
                    if (body.Length < 2 || body[1] != 0)
                    {
                        Fail("CONNACK refused");
                    }

                    break;
                case 9: // SUBACK
                    Ready();
                    break;
                case 3: // PUBLISH (QoS 0: topic, then payload)
                    var topicLength = BinaryPrimitives.ReadUInt16BigEndian(body);
                    OnDelivered(body[(2 + topicLength)..]);
                    break;
                case 13: // PINGRESP
                    break;
            }

            used += 1 + lengthBytes + remaining;
        }
    }

    private static void AddString(List<byte> bytes, byte[] value)
    {
        bytes.Add((byte)(value.Length >> 8));
        bytes.Add((byte)value.Length);
        bytes.AddRange(value);
    }

    private static void Packet(IBufferWriter<byte> output, byte type, List<byte> body)
    {
        var span = output.GetSpan(5 + body.Count);
        span[0] = type;
        var at = 1 + WriteLength(span[1..], body.Count);
        body.ToArray().CopyTo(span[at..]);
        output.Advance(at + body.Count);
    }

    private static int WriteLength(Span<byte> span, int length)
    {
        var at = 0;
        do
        {
            var digit = (byte)(length % 128);
            length /= 128;
            span[at++] = length > 0 ? (byte)(digit | 0x80) : digit;
        }
        while (length > 0);
        return at;
    }

    private static bool TryReadLength(ReadOnlySpan<byte> span, out int length, out int bytes)
    {
        length = 0;
        var multiplier = 1;
        for (bytes = 0; bytes < 4 && bytes < span.Length;)
        {
            var digit = span[bytes++];
            length += (digit & 0x7F) * multiplier;
            if ((digit & 0x80) == 0)
            {
                return true;
            }

            multiplier *= 128;
        }

        return false;
    }
}
