using Parley.Security;

namespace Parley.Client;

/// <summary>
/// The server's key is not the one pinned for this address (or none is pinned and accepting a new one was not asked
/// for). Nothing was sent to the server: no password, no token.
/// </summary>
public sealed class ServerIdentityException : Exception
{
    public ServerIdentityException(PinDecision decision, string endpoint, string? presentedFingerprint, string? pinnedFingerprint)
        : base(Describe(decision, endpoint, presentedFingerprint, pinnedFingerprint))
    {
        Decision = decision;
        PresentedFingerprint = presentedFingerprint;
    }

    public ServerIdentityException() : base("server identity not verified") { }

    public ServerIdentityException(string message) : base(message) { }

    public ServerIdentityException(string message, Exception inner) : base(message, inner) { }

    public PinDecision Decision { get; }

    public string? PresentedFingerprint { get; }

    private static string Describe(PinDecision decision, string endpoint, string? presented, string? pinned) => decision switch
    {
        PinDecision.Changed =>
            $"SERVER IDENTITY CHANGED for {endpoint}: pinned key {pinned}, server presented {presented}. " +
            "Someone may be intercepting the connection, or the server's key was replaced. Nothing was sent. " +
            "If the change is expected, remove the line for this server from known_servers.",
        _ =>
            $"unknown server key for {endpoint} (fingerprint {presented}). Check it with the server's operator, " +
            "then run again with --accept-new-server-key to pin it.",
    };
}
