namespace Parley.Server;

/// <summary>Accounts the server creates itself. None can be logged into.</summary>
public static class BuiltInAccounts
{
    /// <summary>The seed's first program, kept alive: whatever is sent to it comes back upper-cased.</summary>
    public const string Echo = "echo";

    /// <summary>A password hash no password matches, stored for built-in accounts.</summary>
    public const string LockedPasswordHash = "!locked";

    /// <summary>The reply the echo account sends.</summary>
    public static string EchoReply(string text) => text.ToUpperInvariant();
}
