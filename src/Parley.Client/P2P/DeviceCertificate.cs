using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Security;

namespace Parley.Client.P2P;

/// <summary>
/// The key a device proves itself with on direct links (security.md 26, "Peer ↔ peer"): a self-signed ECDSA P-256
/// certificate made on first use and kept in the device home (mode 0600), one per device id. Nobody checks its
/// chain or name; what counts is the SHA-256 of its public key, which the device registers in the server's
/// directory and which its peers compare with what the directory returns.
/// </summary>
public static class DeviceCertificate
{
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>Loads the certificate of <paramref name="device"/> from <paramref name="homePath"/>, or makes it.</summary>
    public static X509Certificate2 LoadOrCreate(string homePath, string device)
    {
        var path = Path.Combine(homePath, $"p2p-key-{device}.pfx");
        if (!File.Exists(path))
        {
            var pfx = CreatePfx(device);
            try
            {
                SecureFile.TryCreateNew(path, pfx); // another process may have won the race: its key is the device's key
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pfx);
            }
        }

        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password: null, KeyStorageFlags);
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CryptographicException($"{path} holds no private key.");
        }

        return certificate;
    }

    /// <summary>SHA-256 of the certificate's SubjectPublicKeyInfo: what the directory stores and peers pin.</summary>
    public static byte[] Fingerprint(X509Certificate certificate) => Convert.FromHexString(KeyFingerprint.Of(certificate));

    private static byte[] CreatePfx(string device)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN=parley-device-{device}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // Both: a device accepts links (TLS server) and dials them (TLS client).
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid), new Oid(ClientAuthOid)], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        return certificate.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password: null);
    }

    private static X509KeyStorageFlags KeyStorageFlags =>
        OperatingSystem.IsLinux() ? X509KeyStorageFlags.EphemeralKeySet : X509KeyStorageFlags.DefaultKeySet;
}
