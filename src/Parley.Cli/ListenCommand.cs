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
        var command = new Command("listen", "Print the messages that arrived since the last run (to and from this user)") { follow, json };
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            var asJson = parse.GetValue(json);
            await using var session = await DeviceSession.OpenAsync(home, DeviceRole.Interactive, signal.Token).ConfigureAwait(false);
            session.StatusChanged += status => Console.Error.WriteLine($"parley: {status}");
            try
            {
                await session.ReceiveAsync(message =>
                {
                    Console.Out.WriteLine(asJson ? MessageFormatter.Json(message) : MessageFormatter.Text(message));
                    // Flushed before the cursor moves past it, so a crash can repeat a line but never lose one.
                    Console.Out.Flush();
                    return ValueTask.CompletedTask;
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
