using System.Globalization;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Terminal;

/// <summary>
/// Line mode (pipes, TERM=dumb, --line, screen readers): the same commands as the full screen, as a stream of plain
/// lines. Every message line names its conversation, "[date time] [peer] &lt;from&gt; text", so a script can pipe
/// commands in and read messages out; colour only on a terminal without NO_COLOR.
/// </summary>
public static class LineChat
{
    public static async Task<int> RunAsync(DeviceSession session, TextReader input, TextWriter output, bool color, IFileTransferHook? files,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        output = TextWriter.Synchronized(output);
        var me = session.Profile.User;
        var catchingUp = true;
        var offlineShown = false;
        void Status(string status)
        {
            catchingUp = true;
            offlineShown = false;
            output.WriteLine($"* {status}");
            output.Flush();
        }

        session.StatusChanged += Status;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receive = session.ReceiveAsync(message =>
        {
            if (catchingUp && !offlineShown && message.From != me)
            {
                offlineShown = true;
                output.WriteLine("-- arrived while you were offline --");
            }

            output.WriteLine(Format(me, message, color));
            output.Flush();
            // Follow the presence of whoever we talk with ("* bob is offline"), as the full screen does per conversation.
            _ = session.WatchAsync([message.From == me ? message.To : message.From], CancellationToken.None);
            return ValueTask.CompletedTask;
        }, serverEvent =>
        {
            switch (serverEvent)
            {
                case PresenceEvent presence:
                    output.WriteLine($"* {presence.User} is {(presence.Online ? "online" : "offline")}");
                    break;
                case ReceiptEvent receipt:
                    output.WriteLine($"* delivered to {receipt.Peer}");
                    break;
                case SyncedEvent:
                    catchingUp = false;
                    output.WriteLine("* up to date");
                    break;
            }

            output.Flush();
        }, follow: true, stop.Token);

        output.WriteLine($"* {me} on {session.Profile.Server}. /query NAME to pick a conversation, /help for commands.");
        output.Flush();
        string? peer = null;
        try
        {
            while (!stop.Token.IsCancellationRequested)
            {
                var read = input.ReadLineAsync(stop.Token).AsTask();
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

                var command = CommandParser.Parse(line);
                switch (command.Kind)
                {
                    case CommandKind.Quit:
                        return 0;
                    case CommandKind.Help:
                        output.WriteLine(command.Name is null ? CommandParser.Help : CommandParser.HelpFor(command.Name) ?? $"! no command {command.Name}");
                        break;
                    case CommandKind.Invalid:
                        output.WriteLine($"! {command.Text}");
                        break;
                    case CommandKind.Query or CommandKind.Message when !Names.TryNormalizeRecipient(command.Name!, out _):
                        output.WriteLine($"! bad user name {command.Name}");
                        break;
                    case CommandKind.Query:
                    case CommandKind.Message when command.Text is null:
                        Names.TryNormalizeRecipient(command.Name!, out var normalized);
                        peer = normalized;
                        output.WriteLine($"* talking to {peer}");
                        await session.WatchAsync([peer], stop.Token).ConfigureAwait(false);
                        break;
                    case CommandKind.Message:
                        Names.TryNormalizeRecipient(command.Name!, out var to);
                        await session.WatchAsync([to], stop.Token).ConfigureAwait(false);
                        await SendAsync(session, to, command.Text!, output, stop.Token).ConfigureAwait(false);
                        break;
                    case CommandKind.Who:
                        var connection = await session.ConnectedAsync(stop.Token).ConfigureAwait(false);
                        var users = await connection.WhoAsync(stop.Token).ConfigureAwait(false);
                        output.WriteLine("* online: " + string.Join(", ", users.Select(u => u.User)));
                        break;
                    case CommandKind.Close:
                        output.WriteLine(peer is null && command.Name is null ? "! no conversation to close" : $"* closed {command.Name ?? peer}");
                        if (command.Name is null || command.Name == peer)
                        {
                            peer = null;
                        }

                        break;
                    case CommandKind.Send when files is null:
                        output.WriteLine("! file transfer is not available in this build");
                        break;
                    case CommandKind.Send when peer is null:
                        output.WriteLine("! no conversation yet: /query NAME first");
                        break;
                    case CommandKind.Send:
                        await files!.SendFileAsync(peer, command.Text!, report => output.WriteLine($"* [{peer}] {report}"), stop.Token).ConfigureAwait(false);
                        break;
                    case CommandKind.Get when files is null:
                        output.WriteLine("! file transfer is not available in this build");
                        break;
                    case CommandKind.Get:
                        await files!.GetFileAsync(command.Text!, report => output.WriteLine($"* {report}"), stop.Token).ConfigureAwait(false);
                        break;
                    case CommandKind.Say when peer is null:
                        output.WriteLine("! no conversation yet: /query NAME first");
                        break;
                    case CommandKind.Say:
                        await SendAsync(session, peer, command.Text!, output, stop.Token).ConfigureAwait(false);
                        break;
                }

                output.Flush();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            session.StatusChanged -= Status;
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
    }

    /// <summary>One message as one line, with its conversation: "[2025-10-14 12:02:03] [bob] &lt;alice&gt; hi".</summary>
    public static string Format(string me, DeliverFrame message, bool color)
    {
        ArgumentNullException.ThrowIfNull(message);
        var peer = message.From == me ? message.To : message.From;
        var time = DateTimeOffset.FromUnixTimeMilliseconds(message.Time).ToLocalTime();
        var nick = color ? $"\x1b[{NickColor.Sgr(message.From)}m{message.From}\x1b[0m" : message.From;
        return string.Create(CultureInfo.InvariantCulture, $"[{time:yyyy-MM-dd HH:mm:ss}] [{peer}] <{nick}> {ConversationView.Clean(message.Text)}");
    }

    /// <summary>Sends and waits for the server's acknowledgement; the message itself is printed when its copy comes back.</summary>
    private static async Task SendAsync(DeviceSession session, string to, string text, TextWriter output, CancellationToken cancellationToken)
    {
        try
        {
            await session.SendAsync(MessageId.NewTimeOrdered(), to, text, cancellationToken).ConfigureAwait(false);
        }
        catch (ParleyErrorException error)
        {
            output.WriteLine($"! not sent to {to}: {error.Message}");
        }
    }
}
