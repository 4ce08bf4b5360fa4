using System.CommandLine;
using Parley.Client;
using Parley.Terminal;

namespace Parley.Cli;

/// <summary>
/// `parley chat`: the full-screen client on a terminal, the line mode otherwise (src/Parley.Terminal). Both survive
/// server restarts (reconnect and catch up).
/// </summary>
internal static class ChatCommand
{
    private static readonly Option<bool> Line = new("--line")
    {
        Description = "Plain line mode even on a terminal (also automatic when stdin or stdout is not a terminal, or TERM=dumb)",
    };

    public static Command Create()
    {
        var command = new Command("chat", "Chat: full screen on a terminal, line mode for pipes (or --line); /query NAME, then type; /help for more")
        {
            Line,
        };
        P2PSettings.AddTo(command, listens: true);
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            await using var session = await DeviceSession.OpenAsync(home, DeviceRole.Interactive, signal.Token).ConfigureAwait(false);
            if (P2PSettings.Enabled(parse, home))
            {
                // P2P chat is line mode only (docs/p2p.md, "Not covered").
                return await P2PLineChat.RunAsync(session, home, P2PSettings.Options(parse, listens: true), Console.In, Console.Out, signal.Token)
                    .ConfigureAwait(false);
            }

            // Full screen only when both ends are a terminal that can draw; otherwise (pipes, TERM=dumb, --line) the
            // line mode, which is also the screen-reader mode. NO_COLOR turns colour off in both (docs/terminal.md).
            var color = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
            var dumb = Environment.GetEnvironmentVariable("TERM") is null or "" or "dumb";
            if (!parse.GetValue(Line) && !dumb && !Console.IsInputRedirected && !Console.IsOutputRedirected)
            {
                return await new FullScreenChat(session, new ChatFileTransfer(session, home), color).RunAsync(signal.Token).ConfigureAwait(false);
            }

            return await LineChat.RunAsync(session, Console.In, Console.Out, color && !dumb && !Console.IsOutputRedirected, new ChatFileTransfer(session, home), signal.Token)
                .ConfigureAwait(false);
        }));
        return command;
    }
}
