using System.CommandLine;
using Parley.Cli;

var root = new RootCommand("Parley: a chat server and client. `parley serve` runs a server; `parley register`, then `parley chat`.")
{
    CliOptions.Home,
};
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(AccountCommands.Register());
root.Subcommands.Add(AccountCommands.Login());
root.Subcommands.Add(AccountCommands.Logout());
root.Subcommands.Add(PasswdCommand.Create());
root.Subcommands.Add(SendCommand.Create());
root.Subcommands.Add(ListenCommand.Create());
root.Subcommands.Add(WhoCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(FileCommands.SendFile());
root.Subcommands.Add(FileCommands.Get());
root.Subcommands.Add(P2PCommand.Create());

// Signals are handled by each command (ShutdownSignal), so that shutdown is clean rather than a forced exit.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
