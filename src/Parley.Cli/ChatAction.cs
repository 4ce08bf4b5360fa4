namespace Parley.Cli;

/// <summary>One parsed chat line.</summary>
internal readonly record struct ChatAction(ChatActionKind Kind, string? Peer = null, string? Text = null);
