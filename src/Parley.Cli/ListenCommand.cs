using System.CommandLine;
using Parley.Client;

namespace Parley.Cli;

/// <summary>`parley listen [--follow] [--json]`: prints what arrived since the last run, each message once.</summary>
internal static class ListenCommand
{
    public static Command Create()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep running and print messages as they arrive (reconnects by itself)" };
        var json = new Option<bool>("--json") { Description = "One JSON object per line: id, from, to, sequence, time, text" };
        var autoAccept = new Option<bool>("--auto-accept")
        {
            Description = "Fetch every file offered to you as it is printed (off by default: nothing is fetched unless asked)",
        };
        var to = new Option<string?>("--to") { Description = "Where --auto-accept saves files (default: HOME/downloads)" };
        var command = new Command("listen", "Print the messages that arrived since the last run (to and from this user)") { follow, json, autoAccept, to };
        P2PSettings.AddTo(command, listens: true);
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            var asJson = parse.GetValue(json);
            if (P2PSettings.Enabled(parse, home))
            {
                return await ListenP2PAsync(parse, home, asJson, parse.GetValue(follow), signal.Token).ConfigureAwait(false);
            }

            var fetch = parse.GetValue(autoAccept);
            var folder = parse.GetValue(to) ?? FileCommands.DefaultDownloads(home);
            await using var session = await DeviceSession.OpenAsync(home, DeviceRole.Interactive, signal.Token).ConfigureAwait(false);
            session.StatusChanged += status => Console.Error.WriteLine($"parley: {status}");
            try
            {
                await session.ReceiveEntriesAsync(async entry =>
                {
                    Console.Out.WriteLine(asJson ? MessageFormatter.Json(entry) : MessageFormatter.Text(entry));
                    // Flushed before the cursor moves past it, so a crash can repeat a line but never lose one.
                    await Console.Out.FlushAsync(signal.Token).ConfigureAwait(false);
                    if (fetch && entry.File is { } offer && entry.Message.From != session.Profile.User)
                    {
                        // Fetched before the cursor moves on: a crash here offers the file again on the next run,
                        // and the download resumes where it stopped.
                        var saved = await FileCommands.GetAsync(session.ConnectedAsync, offer.FileId, folder, signal.Token).ConfigureAwait(false);
                        await Console.Error.WriteLineAsync($"parley: saved {saved}").ConfigureAwait(false);
                    }
                }, onEvent: null, follow: parse.GetValue(follow), signal.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (signal.Token.IsCancellationRequested)
            {
            }

            return 0;
        }));
        return command;
    }

    /// <summary>
    /// `listen --p2p`: registers in the directory and prints messages from both paths, each once, with "path" in JSON.
    /// Messages from others only: this device's own sends do not pass through the server in P2P mode. Without
    /// --follow it fetches what is parked on the server and exits.
    /// </summary>
    private static async Task<int> ListenP2PAsync(ParseResult parse, DeviceHome home, bool asJson, bool follow, CancellationToken cancellationToken)
    {
        await using var session = await DeviceSession.OpenAsync(home, DeviceRole.Interactive, cancellationToken).ConfigureAwait(false);
        var options = P2PSettings.Options(parse, listens: follow);
        await using var node = await Client.P2P.PeerNode.StartAsync(session, home, options, async message =>
        {
            Console.Out.WriteLine(asJson ? MessageFormatter.Json(message) : MessageFormatter.Text(message));
            await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
        }, P2PSettings.Status, cancellationToken).ConfigureAwait(false);
        if (!follow)
        {
            return 0;
        }

        P2PSettings.Ready(node);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return 0;
    }
}
