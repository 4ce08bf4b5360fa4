using System.CommandLine;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Cli;

/// <summary>
/// `parley chat`: the line mode. Incoming messages, presence and errors are printed as lines; typed lines are
/// commands or text for the current conversation. Survives server restarts (reconnects and catches up).
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var command = new Command("chat", "Chat interactively (line mode): /query NAME, then type; /help for more");
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            await using var session = await DeviceSession.OpenAsync(home, DeviceRole.Interactive, signal.Token).ConfigureAwait(false);
            var output = TextWriter.Synchronized(Console.Out);
            session.StatusChanged += status => output.WriteLine($"* {status}");
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(signal.Token);
            var receive = session.ReceiveAsync(message =>
            {
                output.WriteLine(MessageFormatter.Text(message));
                output.Flush();
                return ValueTask.CompletedTask;
            }, serverEvent =>
            {
                switch (serverEvent)
                {
                    case PresenceEvent presence:
                        output.WriteLine($"* {presence.User} is {(presence.Online ? "online" : "offline")}");
                        break;
                    case SyncedEvent:
                        output.WriteLine("* up to date");
                        break;
                }

                output.Flush();
            }, follow: true, stop.Token);

            output.WriteLine($"* {session.Profile.User} on {session.Profile.Server}. /query NAME to pick a conversation, /help for commands.");
            output.Flush();
            string? peer = null;
            try
            {
                while (!stop.Token.IsCancellationRequested)
                {
                    var read = Console.In.ReadLineAsync(stop.Token).AsTask();
                    var finished = await Task.WhenAny(read, receive).ConfigureAwait(false);
                    if (finished == receive)
                    {
                        await receive.ConfigureAwait(false); // surfaces why receiving stopped
                        break;
                    }

                    var line = await read.ConfigureAwait(false);
                    if (line is null)
                    {
                        break;
                    }

                    var action = ChatInput.Parse(line);
                    switch (action.Kind)
                    {
                        case ChatActionKind.Quit:
                            return 0;
                        case ChatActionKind.Help:
                            output.WriteLine(ChatInput.Help);
                            break;
                        case ChatActionKind.Invalid:
                            output.WriteLine($"! {action.Text}");
                            break;
                        case ChatActionKind.Query:
                            if (Names.TryNormalizeUser(action.Peer!, out var normalized))
                            {
                                peer = normalized;
                                output.WriteLine($"* talking to {peer}");
                            }
                            else
                            {
                                output.WriteLine($"! bad user name {action.Peer}");
                            }

                            break;
                        case ChatActionKind.Who:
                            var connection = await session.ConnectedAsync(stop.Token).ConfigureAwait(false);
                            var users = await connection.WhoAsync(stop.Token).ConfigureAwait(false);
                            output.WriteLine("* online: " + string.Join(", ", users.Select(u => u.User)));
                            break;
                        case ChatActionKind.Say when peer is null:
                            output.WriteLine("! no conversation yet: /query NAME first");
                            break;
                        case ChatActionKind.Say:
                            await SendAsync(session, peer, action.Text!, output, stop.Token).ConfigureAwait(false);
                            break;
                        case ChatActionKind.Message:
                            await SendAsync(session, action.Peer!, action.Text!, output, stop.Token).ConfigureAwait(false);
                            break;
                    }

                    output.Flush();
                }
            }
            catch (OperationCanceledException) when (signal.Token.IsCancellationRequested)
            {
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                try
                {
                    await receive.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return 0;
        }));
        return command;
    }

    /// <summary>Sends and waits for the server's acknowledgement; the message itself is printed when its copy comes back.</summary>
    private static async Task SendAsync(DeviceSession session, string to, string text, TextWriter output, CancellationToken cancellationToken)
    {
        try
        {
            await session.SendAsync(MessageId.NewRandom(), to, text, cancellationToken).ConfigureAwait(false);
        }
        catch (ParleyErrorException error)
        {
            output.WriteLine($"! {error.Message}");
        }
    }
}
