using System.Globalization;
using Parley.Client;
using Parley.Client.P2P;

namespace Parley.Cli;

/// <summary>
/// `parley chat --p2p`: line mode over a <see cref="PeerNode"/>. "/query NAME" picks the peer, any other line is
/// sent to it; each send reports its path ("* delivered directly" or "* stored on the server (why)"), each
/// message received is one line "[time] [peer] &lt;from&gt; text", whichever path brought it, once.
/// </summary>
internal static class P2PLineChat
{
    public static async Task<int> RunAsync(DeviceSession session, DeviceHome home, PeerOptions options, TextReader input, TextWriter output,
        CancellationToken cancellationToken)
    {
        output = TextWriter.Synchronized(output);
        await using var node = await PeerNode.StartAsync(session, home, options, message =>
        {
            var time = DateTimeOffset.FromUnixTimeMilliseconds(message.Time).ToLocalTime();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{time:yyyy-MM-dd HH:mm:ss}] [{message.From}] <{message.From}> {message.Text}"));
            output.Flush();
            return ValueTask.CompletedTask;
        }, status => { output.WriteLine($"* {status}"); output.Flush(); }, cancellationToken).ConfigureAwait(false);
        P2PSettings.Ready(node);
        output.WriteLine($"* {node.User} in P2P mode on {session.Profile.Server}. /query NAME to pick a peer, /quit to leave.");
        output.Flush();
        string? peer = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            string? line;
            try
            {
                line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (line is null || line.Trim() is "/quit" or "/exit")
            {
                break;
            }

            if (line.StartsWith("/query ", StringComparison.Ordinal) || line.StartsWith("/q ", StringComparison.Ordinal))
            {
                peer = line[(line.IndexOf(' ', StringComparison.Ordinal) + 1)..].Trim();
                output.WriteLine($"* talking to {peer}");
            }
            else if (line.StartsWith('/'))
            {
                output.WriteLine("* commands: /query NAME, /quit; any other line is sent");
            }
            else if (peer is null)
            {
                output.WriteLine("* pick a peer first: /query NAME");
            }
            else if (line.Length > 0)
            {
                try
                {
                    var outcome = await node.SendAsync(peer, line, cancellationToken).ConfigureAwait(false);
                    output.WriteLine(outcome.Path == DeliveryPath.Direct ? "* delivered directly" : $"* stored on the server ({outcome.FallbackReason})");
                }
                catch (ParleyErrorException error)
                {
                    output.WriteLine($"* not sent: {error.Message}");
                }
                catch (Protocol.ProtocolException error)
                {
                    output.WriteLine($"* not sent: {error.Message}");
                }
                catch (Exception exception) when (DeviceSession.IsTransient(exception))
                {
                    output.WriteLine($"* not sent (no peer, no server): {exception.Message}");
                }
            }

            output.Flush();
        }

        return 0;
    }
}
