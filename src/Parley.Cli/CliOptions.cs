using System.CommandLine;

namespace Parley.Cli;

/// <summary>Options shared by several verbs.</summary>
internal static class CliOptions
{
    public static readonly Option<string?> Home = new("--home")
    {
        Description = "Folder where this device keeps its keys, pins, token and cursor (default: $PARLEY_HOME or ~/.parley)",
        Recursive = true,
    };

    public static readonly Option<string> Server = new("--server")
    {
        Description = "Server address, HOST:PORT; for a cluster, several nodes HOST:PORT,HOST:PORT tried in order",
        Required = true,
    };

    public static readonly Option<string> User = new("--user")
    {
        Description = "User name (1-64 of a-z 0-9 . _ -; case does not matter)",
        Required = true,
    };

    public static readonly Option<bool> PasswordStdin = new("--password-stdin")
    {
        Description = "Read the password from the first line of standard input instead of prompting",
    };

    public static readonly Option<bool> AcceptNewServerKey = new("--accept-new-server-key")
    {
        Description = "Pin the server's key if none is pinned yet for this address (as ssh's accept-new); a changed key is always refused",
    };
}
