namespace Parley.Cli;

/// <summary>What a chat line asks for.</summary>
internal enum ChatActionKind
{
    Empty,
    Say,
    Query,
    Message,
    Who,
    Help,
    Quit,
    Invalid,
}
