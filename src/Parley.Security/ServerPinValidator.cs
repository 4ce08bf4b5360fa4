using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Security;

/// <summary>
/// The client's TLS server check (security.md 3): accepts the server certificate only by its pinned SPKI fingerprint,
/// either through <see cref="KnownServers"/> (trust on first use only when <c>acceptNew</c>, hard fail on change) or
/// against one explicitly provisioned fingerprint. Chain and name errors are ignored because the server certificate
/// is self-signed; the pin is the whole check. After a handshake, <see cref="LastDecision"/> and
/// <see cref="PresentedFingerprint"/> tell the caller what to report ("server identity changed", or "unknown server
/// key; run with --accept-new-server-key, fingerprint is …") before it sends any credentials.
/// Use one instance per connection attempt.
/// </summary>
public sealed class ServerPinValidator
{
    private readonly KnownServers? _knownServers;
    private readonly string? _endpoint;
    private readonly bool _acceptNew;
    private readonly string? _expectedFingerprint;

    /// <summary>Validates against the pin stored in <paramref name="knownServers"/> for <paramref name="endpoint"/>.</summary>
    public ServerPinValidator(KnownServers knownServers, string endpoint, bool acceptNew)
    {
        ArgumentNullException.ThrowIfNull(knownServers);
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        _knownServers = knownServers;
        _endpoint = endpoint;
        _acceptNew = acceptNew;
        Callback = Validate;
    }

    /// <summary>Validates against one provisioned fingerprint (64 hex characters); a mismatch is <see cref="PinDecision.Changed"/>.</summary>
    public ServerPinValidator(string expectedFingerprint)
    {
        if (!KeyFingerprint.IsWellFormed(expectedFingerprint))
        {
            throw new ArgumentException($"A fingerprint is {KeyFingerprint.HexLength} hex characters.", nameof(expectedFingerprint));
        }

        _expectedFingerprint = expectedFingerprint.ToLowerInvariant();
        Callback = Validate;
    }

    /// <summary>The decision of the last validation; null before one, or when the server sent no certificate.</summary>
    public PinDecision? LastDecision { get; private set; }

    /// <summary>The fingerprint of the key the server presented in the last validation, or null.</summary>
    public string? PresentedFingerprint { get; private set; }

    /// <summary>The callback for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>.</summary>
    public RemoteCertificateValidationCallback Callback { get; }

    /// <summary>
    /// Client options with this validator, renegotiation off and the protocol choice left to the OS, which
    /// negotiates TLS 1.3 here (security.md 2, V2, V4).
    /// </summary>
    public SslClientAuthenticationOptions CreateClientOptions(string targetHost) => new()
    {
        TargetHost = targetHost,
        RemoteCertificateValidationCallback = Callback,
        AllowRenegotiation = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    /// <summary>The validation itself: true only for <see cref="PinDecision.Trusted"/> or <see cref="PinDecision.AcceptedNew"/>.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors sslPolicyErrors)
    {
        LastDecision = null;
        PresentedFingerprint = null;
        if (certificate is null)
        {
            return false;
        }

        var presented = KeyFingerprint.Of(certificate);
        PresentedFingerprint = presented;
        PinDecision decision;
        if (_knownServers is not null)
        {
            decision = _knownServers.Check(_endpoint!, presented, _acceptNew);
        }
        else
        {
            decision = KeyFingerprint.Matches(certificate, _expectedFingerprint!) ? PinDecision.Trusted : PinDecision.Changed;
        }

        LastDecision = decision;
        return decision is PinDecision.Trusted or PinDecision.AcceptedNew;
    }
}
