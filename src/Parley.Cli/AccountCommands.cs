using System.CommandLine;
using Parley.Client;

namespace Parley.Cli;

/// <summary>`parley register`, `parley login` and `parley logout`.</summary>
internal static class AccountCommands
{
    public static Command Register() => Create("register", "Create an account on a server and log this device in", register: true);

    public static Command Login() => Create("login", "Log this device in to an existing account", register: false);

    public static Command Logout()
    {
        var command = new Command("logout", "Revoke this home's login tokens on the server and forget them");
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            foreach (var role in Enum.GetValues<DeviceRole>())
            {
                try
                {
                    await using var session = await DeviceSession.OpenAsync(home, role).ConfigureAwait(false);
                    var connection = await session.ConnectAsync().ConfigureAwait(false);
                    await connection.LogoutAsync().ConfigureAwait(false);
                }
                catch (NotLoggedInException)
                {
                }
            }

            home.DeleteTokens();
            Console.Out.WriteLine("logged out");
            return 0;
        }));
        return command;
    }

    private static Command Create(string name, string description, bool register)
    {
        var command = new Command(name, description)
        {
            CliOptions.Server, CliOptions.User, CliOptions.PasswordStdin, CliOptions.AcceptNewServerKey,
        };
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            var servers = ServerList.Parse(parse.GetValue(CliOptions.Server)!);
            var server = servers[0];
            var password = PasswordInput.Read(parse.GetValue(CliOptions.PasswordStdin), confirm: register);
            var pinnedBefore = home.KnownServers.Lookup(server.ToString());
            var profile = await DeviceSession.LoginAsync(home, servers, parse.GetValue(CliOptions.User)!, password, register,
                parse.GetValue(CliOptions.AcceptNewServerKey), signal.Token).ConfigureAwait(false);
            if (pinnedBefore is null)
            {
                Console.Out.WriteLine($"pinned server key {home.KnownServers.Lookup(server.ToString())} for {server}");
            }

            Console.Out.WriteLine($"{(register ? "registered and logged in" : "logged in")} as {profile.User} on {profile.Server} (device {profile.Device}, home {home.Path})");
            return 0;
        }));
        return command;
    }
}
