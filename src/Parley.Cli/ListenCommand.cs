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
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            var asJson = parse.GetValue(json);
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
}
