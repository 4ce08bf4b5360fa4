using System.CommandLine;
using Parley.Client;

namespace Parley.Cli;

/// <summary>`parley who`: the users online now.</summary>
internal static class WhoCommand
{
    public static Command Create()
    {
        var command = new Command("who", "List the users online now");
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            await using var session = await DeviceSession.OpenAsync(home, DeviceRole.OneShot, signal.Token).ConfigureAwait(false);
            var connection = await session.ConnectAsync(signal.Token).ConfigureAwait(false);
            foreach (var user in await connection.WhoAsync(signal.Token).ConfigureAwait(false))
            {
                Console.Out.WriteLine(user.Devices == 1 ? user.User : $"{user.User} ({user.Devices} devices)");
            }

            return 0;
        }));
        return command;
    }
}
