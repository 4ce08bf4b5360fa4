namespace Parley.Terminal;

/// <summary>One parsed input line: the command, its name argument (peer or help topic) and its text or path.</summary>
public readonly record struct ChatCommandLine(CommandKind Kind, string? Name = null, string? Text = null);
