using System.CommandLine;
using Parley.Client;

namespace Parley.Cli;

/// <summary>`parley p2p on|off|status`: the home's P2P setting, so chat, listen and send use P2P mode without --p2p.</summary>
internal static class P2PCommand
{
    public static Command Create()
    {
        var state = new Argument<string>("state") { Description = "on, off or status", DefaultValueFactory = _ => "status" };
        state.AcceptOnlyFromAmong("on", "off", "status");
        var command = new Command("p2p", "Turn P2P mode on or off for this home (chat, listen, send); PARLEY_P2P=1 also turns it on") { state };
        command.SetAction(parse =>
        {
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            switch (parse.GetValue(state))
            {
                case "on":
                    home.P2PEnabled = true;
                    break;
                case "off":
                    home.P2PEnabled = false;
                    break;
            }

            Console.Out.WriteLine($"p2p {(home.P2PEnabled ? "on" : "off")}");
            return 0;
        });
        return command;
    }
}
