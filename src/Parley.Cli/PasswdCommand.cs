using System.CommandLine;
using Parley.Client;

namespace Parley.Cli;

/// <summary>`parley passwd`: change the account's password; every device must log in again, this home's are re-logged.</summary>
internal static class PasswdCommand
{
    public static Command Create()
    {
        var command = new Command("passwd", "Change your password. Every other device is logged out; this home stays logged in.")
        {
            CliOptions.PasswordStdin,
        };
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            var fromStdin = parse.GetValue(CliOptions.PasswordStdin);
            var current = PasswordInput.Read(fromStdin, confirm: false, label: "Current password: ");
            var replacement = PasswordInput.Read(fromStdin, confirm: true, label: "New password: ");
            DeviceProfile profile;
            await using (var session = await DeviceSession.OpenAsync(home, DeviceRole.OneShot, signal.Token).ConfigureAwait(false))
            {
                profile = session.Profile;
                var connection = await session.ConnectAsync(signal.Token).ConfigureAwait(false);
                var ok = await connection.ChangePasswordAsync(current, replacement, signal.Token).ConfigureAwait(false);
                home.SaveToken(DeviceRole.OneShot, ok.Token);
            }

            // Every token was revoked, this home's interactive device's too: log it in again with the new password.
            await using (var connection = await ServerList.ConnectAsync(ServerList.Parse(profile.Server),
                ServerTrust.Pinned(home.KnownServers, acceptNew: false), signal.Token).ConfigureAwait(false))
            {
                var ok = await connection.LoginAsync(profile.User, replacement, DeviceHome.DeviceFor(profile, DeviceRole.Interactive), signal.Token).ConfigureAwait(false);
                home.SaveToken(DeviceRole.Interactive, ok.Token);
            }

            Console.Out.WriteLine($"password changed for {profile.User}; other devices must log in again");
            return 0;
        }));
        return command;
    }
}
