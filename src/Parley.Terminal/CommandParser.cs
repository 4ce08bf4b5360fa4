namespace Parley.Terminal;

/// <summary>
/// Parses one typed line, the same in full-screen and line mode. Slash commands as in IRC clients, plus the design
/// note's @-commands (<c>@switch:NAME</c>, <c>@trans:PATH</c>, <c>@exit</c>, <c>@help</c>) as aliases, so its users
/// feel at home.
/// </summary>
public static class CommandParser
{
    /// <summary>The commands, for Tab completion and /help; aliases included so they complete too.</summary>
    public static readonly IReadOnlyList<string> Commands = ["/accept", "/close", "/get", "/help", "/msg", "/query", "/quit", "/send", "/who"];

    private static readonly Dictionary<string, string> Details = new(StringComparer.Ordinal)
    {
        ["query"] = "/query NAME      talk to NAME from now on (also /q, @switch:NAME, Alt+1..9, Ctrl+N/P, Alt+a)",
        ["msg"] = "/msg NAME [TEXT] open the conversation with NAME, and send TEXT there if given",
        ["who"] = "/who             who is online",
        ["close"] = "/close [NAME]    close the current conversation (or NAME); it comes back when a message arrives",
        ["send"] = "/send PATH       send a file to the current conversation (also @trans:PATH)",
        ["get"] = "/get ID          fetch an offered file into the downloads folder (also /accept ID)",
        ["help"] = "/help [COMMAND]  this help, or one command's (also @help)",
        ["quit"] = "/quit            leave (also @exit, Ctrl+D on an empty line, Ctrl+C; Esc quits nothing)",
    };

    public static string Help => "commands:\n" + string.Join('\n', Details.Values.Select(d => "  " + d)) +
        "\n  //TEXT           send TEXT starting with a slash\nanything else is sent to the current conversation.";

    /// <summary>Help for one command (with or without the slash), or null when there is no such command.</summary>
    public static string? HelpFor(string command)
    {
        var key = command.TrimStart('/', '@').ToLowerInvariant();
        key = key switch { "q" => "query", "exit" or "quit" => "quit", "switch" => "query", "trans" => "send", "accept" => "get", _ => key };
        return Details.TryGetValue(key, out var text) ? text : null;
    }

    public static ChatCommandLine Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var trimmed = line.Trim();
        if (trimmed.Length == 0)
        {
            return new ChatCommandLine(CommandKind.Empty);
        }

        if (trimmed.StartsWith("//", StringComparison.Ordinal))
        {
            return new ChatCommandLine(CommandKind.Say, Text: trimmed[1..]);
        }

        if (trimmed.StartsWith("@switch:", StringComparison.OrdinalIgnoreCase))
        {
            return Query(trimmed["@switch:".Length..].Trim());
        }

        if (trimmed.StartsWith("@trans:", StringComparison.OrdinalIgnoreCase))
        {
            return Send(trimmed["@trans:".Length..].Trim());
        }

        if (trimmed.Equals("@exit", StringComparison.OrdinalIgnoreCase))
        {
            return new ChatCommandLine(CommandKind.Quit);
        }

        if (trimmed.Equals("@help", StringComparison.OrdinalIgnoreCase))
        {
            return new ChatCommandLine(CommandKind.Help);
        }

        if (!trimmed.StartsWith('/'))
        {
            return new ChatCommandLine(CommandKind.Say, Text: line);
        }

        var parts = trimmed[1..].Split(' ', 3, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var verb = parts.Length > 0 ? parts[0].ToLowerInvariant() : string.Empty;
        return verb switch
        {
            "query" or "q" => Query(parts.Length > 1 ? parts[1] : string.Empty),
            "msg" when parts.Length >= 2 => new ChatCommandLine(CommandKind.Message, Name: parts[1], Text: parts.Length == 3 ? parts[2] : null),
            "msg" => new ChatCommandLine(CommandKind.Invalid, Text: "usage: /msg NAME [TEXT]"),
            "who" => new ChatCommandLine(CommandKind.Who),
            "close" or "wc" => new ChatCommandLine(CommandKind.Close, Name: parts.Length > 1 ? parts[1] : null),
            "send" => Send(trimmed[1..].Length > 4 ? trimmed[5..].Trim() : string.Empty),
            "get" or "accept" when parts.Length >= 2 => new ChatCommandLine(CommandKind.Get, Text: parts[1]),
            "get" or "accept" => new ChatCommandLine(CommandKind.Invalid, Text: "usage: /get ID (the file id shown with the offer)"),
            "help" => new ChatCommandLine(CommandKind.Help, Name: parts.Length > 1 ? parts[1] : null),
            "quit" or "exit" => new ChatCommandLine(CommandKind.Quit),
            _ => new ChatCommandLine(CommandKind.Invalid, Text: $"unknown command /{verb}; /help lists them"),
        };
    }

    private static ChatCommandLine Query(string name) => name.Length == 0
        ? new ChatCommandLine(CommandKind.Invalid, Text: "usage: /query NAME")
        : new ChatCommandLine(CommandKind.Query, Name: name);

    private static ChatCommandLine Send(string path) => path.Length == 0
        ? new ChatCommandLine(CommandKind.Invalid, Text: "usage: /send PATH")
        : new ChatCommandLine(CommandKind.Send, Text: path);
}
