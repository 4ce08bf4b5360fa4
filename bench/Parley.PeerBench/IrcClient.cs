using System.Buffers;
using System.Text;

namespace Parley.PeerBench;

/// <summary>
/// IRC: NICK and USER, ready on the 001 welcome; PRIVMSG PARTNER :payload; PING answered with PONG. IRC has no
/// per-message acknowledgement.
/// </summary>
internal sealed class IrcClient(string self, string partner) : BenchClient(self, partner)
{
    private static readonly byte[] PrivmsgMarker = " PRIVMSG "u8.ToArray();
    private readonly byte[] _prefix = Encoding.ASCII.GetBytes($"PRIVMSG {partner} :");

    protected override void WriteLogin(IBufferWriter<byte> output) =>
        output.Write(Encoding.ASCII.GetBytes($"NICK {Self}\r\nUSER {Self} 0 * :{Self}\r\n"));

    protected override void WriteMessage(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        var span = output.GetSpan(_prefix.Length + payload.Length + 2);
        _prefix.CopyTo(span);
        payload.CopyTo(span[_prefix.Length..]);
        span[_prefix.Length + payload.Length] = (byte)'\r';
        span[_prefix.Length + payload.Length + 1] = (byte)'\n';
        output.Advance(_prefix.Length + payload.Length + 2);
    }

    protected override int Parse(ReadOnlySpan<byte> input, IBufferWriter<byte> replies)
    {
        var used = 0;
        while (true)
        {
            var rest = input[used..];
            var end = rest.IndexOf((byte)'\n');
            if (end < 0)
            {
                return used;
            }

            var line = rest[..end].TrimEnd((byte)'\r');
            used += end + 1;
            if (line.StartsWith("PING "u8))
            {
                replies.Write("PONG "u8);
                replies.Write(line[5..]);
                replies.Write("\r\n"u8);
                continue;
            }

            var command = line.IndexOf((byte)' ');
            if (command < 0)
            {
                continue;
            }

            var after = line[(command + 1)..];
            if (after.StartsWith("001 "u8))
            {
                Ready();
            }
            else if (after.StartsWith("433 "u8) || line.StartsWith("ERROR"u8))
            {
                Fail(Encoding.ASCII.GetString(line));
            }
            else if (line.IndexOf(PrivmsgMarker) >= 0)
            {
                var text = line.IndexOf(" :"u8);
                if (text >= 0)
                {
                    OnDelivered(line[(text + 2)..]);
                }
            }
        }
    }
}
