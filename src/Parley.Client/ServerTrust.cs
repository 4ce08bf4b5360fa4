using Parley.Security;

namespace Parley.Client;

/// <summary>
/// How the client decides to trust a server's TLS key: the pins in a known_servers file (with or without accepting
/// an unknown key once, as ssh's accept-new), or one fingerprint given explicitly.
/// </summary>
public sealed record ServerTrust
{
    private ServerTrust(KnownServers? knownServers, bool acceptNew, string? fingerprint)
    {
        KnownServers = knownServers;
        AcceptNew = acceptNew;
        Fingerprint = fingerprint;
    }

    public KnownServers? KnownServers { get; }

    public bool AcceptNew { get; }

    public string? Fingerprint { get; }

    public static ServerTrust Pinned(KnownServers knownServers, bool acceptNew) => new(knownServers, acceptNew, null);

    public static ServerTrust ExactKey(string fingerprint) => new(null, false, fingerprint);

    internal ServerPinValidator CreateValidator(string endpoint) =>
        KnownServers is not null ? new ServerPinValidator(KnownServers, endpoint, AcceptNew) : new ServerPinValidator(Fingerprint!);
}
