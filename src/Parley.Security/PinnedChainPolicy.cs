using System.Security.Cryptography.X509Certificates;

namespace Parley.Security;

/// <summary>
/// The X.509 chain policy for a TLS peer whose key is pinned (the server for a client, a device on a direct link).
/// .NET builds a chain before it calls the validation callback, whatever the callback decides, and by default that
/// build loads the system's trust store (about 140 roots) into an OpenSSL store and searches it on every handshake.
/// The pin ignores the chain's verdict, so the chain is built against an empty custom root store: no system roots, no
/// revocation check, no downloads. For a reconnecting client this was most of its CPU (docs/performance.md, "What
/// changed in session 8"). The callback still sees <c>RemoteCertificateChainErrors</c> for a self-signed key, as before.
/// </summary>
public static class PinnedChainPolicy
{
    /// <summary>A new policy (SslStream options keep a reference, so each set of options gets its own).</summary>
    public static X509ChainPolicy Create() => new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };
}
