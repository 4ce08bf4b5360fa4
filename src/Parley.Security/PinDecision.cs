namespace Parley.Security;

/// <summary>
/// What <see cref="KnownServers.Check"/> concluded about a presented server key; the caller turns it into "connect",
/// "unknown server key; run with --accept-new-server-key" or "server identity changed" (security.md 3).
/// </summary>
public enum PinDecision
{
    /// <summary>The key matches the stored pin.</summary>
    Trusted,

    /// <summary>No pin was stored; the caller allowed trust on first use and the key is now stored.</summary>
    AcceptedNew,

    /// <summary>No pin was stored and the caller did not allow trust on first use: refuse.</summary>
    Unknown,

    /// <summary>A different pin is stored: refuse, never overwrite.</summary>
    Changed,
}
