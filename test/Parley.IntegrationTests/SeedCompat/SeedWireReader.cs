using System.Net.Sockets;
using System.Text;

namespace Parley.IntegrationTests.SeedCompat;

/// <summary>Reads what the listener sends to a raw socket, reassembled into frames (as the note's client never did).</summary>
public sealed class SeedWireReader(Socket socket)
{
    private readonly StringBuilder _pending = new();
    private readonly Queue<(string Sender, string Text)> _frames = new();

    /// <summary>The text of the next frame from <paramref name="sender"/> (frames from others are skipped).</summary>
    public async Task<string> NextAsync(string sender)
    {
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        var buffer = new byte[4096];
        while (true)
        {
            while (_frames.TryDequeue(out var frame))
            {
                if (frame.Sender == sender)
                {
                    return frame.Text;
                }
            }

            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            Assert.True(read > 0, "the listener closed the connection; pending: " + _pending);
            _pending.Append(Encoding.ASCII.GetString(buffer, 0, read));
            var text = _pending.ToString();
            int end;
            while ((end = text.IndexOf("||", StringComparison.Ordinal)) >= 0)
            {
                var fields = text[..end].Split('|');
                Assert.Equal(4, fields.Length);
                _frames.Enqueue((fields[0], Encoding.UTF8.GetString(Convert.FromBase64String(fields[3]))));
                text = text[(end + 2)..];
            }

            _pending.Clear().Append(text);
        }
    }
}
