namespace Parley.Cli;

/// <summary>
/// Parses one line typed in `parley chat`. Slash commands as in IRC clients, plus the design note's @-commands
/// (<c>@switch:NAME</c>, <c>@exit</c>, <c>@help</c>) as aliases, so its users feel at home.
/// </summary>
internal static class ChatInput
{
    public const string Help = """
        commands:
          /query NAME      talk to NAME from now on (also @switch:NAME)
          /msg NAME TEXT   send one message to NAME without switching
          /who             who is online
          /help            this help (also @help)
          /quit            leave (also @exit, or end of input)
          //TEXT           send TEXT starting with a slash
        anything else is sent to the current conversation.
        """;

    public static ChatAction Parse(string line)
    {
        var trimmed = line.Trim();
        if (trimmed.Length == 0)
        {
            return new ChatAction(ChatActionKind.Empty);
        }

        if (trimmed.StartsWith("//", StringComparison.Ordinal))
        {
            return new ChatAction(ChatActionKind.Say, Text: trimmed[1..]);
        }

        if (trimmed.StartsWith("@switch:", StringComparison.OrdinalIgnoreCase))
        {
            return Query(trimmed["@switch:".Length..].Trim());
        }

        if (trimmed.Equals("@exit", StringComparison.OrdinalIgnoreCase))
        {
            return new ChatAction(ChatActionKind.Quit);
        }

        if (trimmed.Equals("@help", StringComparison.OrdinalIgnoreCase))
        {
            return new ChatAction(ChatActionKind.Help);
        }

        if (!trimmed.StartsWith('/'))
        {
            return new ChatAction(ChatActionKind.Say, Text: line);
        }

        var parts = trimmed[1..].Split(' ', 3, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var verb = parts.Length > 0 ? parts[0].ToLowerInvariant() : string.Empty;
        return verb switch
        {
            "query" or "q" => Query(parts.Length > 1 ? parts[1] : string.Empty),
            "msg" when parts.Length == 3 => new ChatAction(ChatActionKind.Message, Peer: parts[1], Text: parts[2]),
            "msg" => new ChatAction(ChatActionKind.Invalid, Text: "usage: /msg NAME TEXT"),
            "who" => new ChatAction(ChatActionKind.Who),
            "help" => new ChatAction(ChatActionKind.Help),
            "quit" or "exit" => new ChatAction(ChatActionKind.Quit),
            _ => new ChatAction(ChatActionKind.Invalid, Text: $"unknown command /{verb}; /help lists them"),
        };
    }

    private static ChatAction Query(string name) => name.Length == 0
        ? new ChatAction(ChatActionKind.Invalid, Text: "usage: /query NAME")
        : new ChatAction(ChatActionKind.Query, Peer: name);
}
