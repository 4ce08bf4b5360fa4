using System.Net;
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
    /// negotiates TLS 1.3 here (security.md 2, V2, V4). Resets <see cref="LastDecision"/>, so that
    /// <see cref="ConfirmPinned"/> afterwards sees this handshake's decision and no earlier one.
    /// </summary>
    /// <remarks>
    /// .NET keeps one TLS 1.3 session ticket per target host, process-wide, and offers it on the next connection to
    /// that host (security.md 2, "TLS session resumption"); it never does so for an IP address, whose target host is
    /// therefore replaced by <see cref="SessionHostFor"/>. The pin still decides every connection: see
    /// <see cref="ConfirmPinned"/>.
    /// </remarks>
    public SslClientAuthenticationOptions CreateClientOptions(string targetHost)
    {
        LastDecision = null;
        PresentedFingerprint = null;
        return new SslClientAuthenticationOptions
        {
            TargetHost = SessionHostFor(targetHost),
            RemoteCertificateValidationCallback = Callback,
            AllowRenegotiation = false,
            CertificateChainPolicy = PinnedChainPolicy.Create(), // the pin decides: no system roots searched
        };
    }

    /// <summary>
    /// The TLS target host (SNI, and the key of .NET's client session cache) for <paramref name="host"/>: a name is
    /// kept; an IP address becomes <c>ip-HEX.parley.invalid</c> (its bytes in hex, under the reserved .invalid
    /// top-level domain so it can name nothing real). Without a name .NET on Linux neither caches nor offers a
    /// session, so a client configured with an address would make a full handshake on every reconnect. The server
    /// has one certificate and ignores SNI, and name errors are ignored here anyway: the pin is the whole check.
    /// </summary>
    public static string SessionHostFor(string host)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        return IPAddress.TryParse(host.Trim('[', ']'), out var address)
            ? $"ip-{Convert.ToHexStringLower(address.GetAddressBytes())}.parley.invalid"
            : host;
    }

    /// <summary>
    /// After a successful handshake on <paramref name="tls"/>: whether its server key passed the pin. A resumed TLS 1.3
    /// session carries no certificate message; .NET 10 on Linux still calls <see cref="Callback"/> with the certificate
    /// stored in the session (the one that passed the pin when the ticket was issued), which is checked against the
    /// pin of this endpoint. Should a runtime skip the callback on resumption (proposed in dotnet/runtime#133174), no
    /// decision was made for this handshake, and the session's certificate (<see cref="SslStream.RemoteCertificate"/>)
    /// is validated here instead, so the pin holds on every connection whatever the runtime does.
    /// </summary>
    public bool ConfirmPinned(SslStream tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        if (LastDecision is null)
        {
            Validate(tls, tls.RemoteCertificate, chain: null, SslPolicyErrors.None);
        }

        return LastDecision is PinDecision.Trusted or PinDecision.AcceptedNew;
    }

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
