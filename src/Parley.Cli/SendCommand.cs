using System.CommandLine;
using System.Text;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Cli;

/// <summary>`parley send USER TEXT...`: exits 0 only once the server has stored the message.</summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var to = new Argument<string>("user") { Description = "Recipient" };
        var text = new Argument<string[]>("text") { Description = "Message text (words are joined with spaces)", Arity = ArgumentArity.OneOrMore };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds to keep trying (reconnecting if needed) before giving up",
            DefaultValueFactory = _ => 30,
        };
        var command = new Command("send", "Send a message; exits 0 once the server acknowledged it as stored (with --p2p: or the peer did)") { to, text, timeout };
        P2PSettings.AddTo(command, listens: false);
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            var body = string.Join(' ', parse.GetValue(text)!);
            if (Encoding.UTF8.GetByteCount(body) > ProtocolLimits.Default.MaxTextBytes)
            {
                throw new UserError($"message too long: at most {ProtocolLimits.Default.MaxTextBytes} bytes");
            }

            using var signal = new ShutdownSignal();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(signal.Token);
            deadline.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(timeout)));
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            await using var session = await DeviceSession.OpenAsync(home, DeviceRole.OneShot, deadline.Token).ConfigureAwait(false);
            if (P2PSettings.Enabled(parse, home))
            {
                // A one-shot device dials out only: it registers (so the peer can check its key) without an endpoint.
                await using var node = await Client.P2P.PeerNode.StartAsync(session, home, P2PSettings.Options(parse, listens: false), onMessage: null,
                    status: null, deadline.Token).ConfigureAwait(false);
                var outcome = await node.SendAsync(parse.GetValue(to)!, body, deadline.Token).ConfigureAwait(false);
                P2PSettings.Status(outcome.Path == Client.P2P.DeliveryPath.Direct
                    ? "delivered directly"
                    : $"stored on the server ({outcome.FallbackReason})");
                return 0;
            }

            try
            {
                await session.SendAsync(MessageId.NewTimeOrdered(), parse.GetValue(to)!, body, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!signal.Token.IsCancellationRequested)
            {
                throw new UserError($"no acknowledgement from {session.Profile.Server} within {parse.GetValue(timeout)} s; the message may not be stored");
            }

            return 0;
        }));
        return command;
    }
}
