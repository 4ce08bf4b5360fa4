namespace Parley.Terminal;

/// <summary>What a typed line asks for.</summary>
public enum CommandKind
{
    Empty,
    Say,
    Query,
    Message,
    Who,
    Close,
    Send,
    Get,
    Help,
    Quit,
    Invalid,
}
