using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Security;

namespace Parley.PeerBench;

/// <summary>
/// The key and certificate compare.sh gives the peers' TLS listeners (mosquitto, ngIRCd): the same kind of key as
/// Parley's own (ECDSA P-256, self-signed, SHA-256; Parley.Security's ServerCertificate), so a handshake costs both
/// sides the same signature and verification whichever server answers it.
/// </summary>
internal static class PeerTlsKey
{
    /// <summary>Writes <c>cert.pem</c> and <c>key.pem</c> (PKCS#8) into <paramref name="folder"/>; returns the key's fingerprint.</summary>
    public static string Write(string folder)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        return KeyFingerprint.Of(certificate);
    }
}
