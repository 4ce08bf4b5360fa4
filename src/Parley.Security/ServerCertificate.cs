using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Security;

/// <summary>
/// The server's TLS identity (security.md 2, 3, "Recommended crypto"): a self-signed ECDSA P-256 certificate made on
/// first start and kept in <c>&lt;dataDirectory&gt;/server.pfx</c> (mode 0600), so its key (and so its SPKI
/// fingerprint that clients pin) survives restarts. Operators print <see cref="KeyFingerprint.Of"/> of the result
/// for clients to provision or confirm.
/// </summary>
public static class ServerCertificate
{
    /// <summary>Name of the PKCS#12 file in the data directory.</summary>
    public const string FileName = "server.pfx";

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>
    /// Loads <c>server.pfx</c> from <paramref name="dataDirectory"/>, or creates a new key and certificate there if
    /// it does not exist. The returned certificate has its private key and is usable as an <c>SslStream</c> server
    /// certificate; the caller owns (disposes) it.
    /// </summary>
    public static X509Certificate2 LoadOrCreate(string dataDirectory, string subjectName = "CN=parley-server")
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentException.ThrowIfNullOrEmpty(subjectName);
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            return Checked(X509CertificateLoader.LoadPkcs12FromFile(path, password: null, KeyStorageFlags), path);
        }

        var pfx = CreatePfx(subjectName);
        try
        {
            // If another process created the file meanwhile, its key wins: one server identity per directory.
            return SecureFile.TryCreateNew(path, pfx)
                ? Checked(X509CertificateLoader.LoadPkcs12(pfx, password: null, KeyStorageFlags), path)
                : Checked(X509CertificateLoader.LoadPkcs12FromFile(path, password: null, KeyStorageFlags), path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pfx);
        }
    }

    private static byte[] CreatePfx(string subjectName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(subjectName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());

        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));

        // The file is protected by its mode (0600), not by a password; PBES2/AES-256 keeps the format modern.
        return certificate.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password: null);
    }

    // Linux keeps PKCS#12 keys in memory anyway; EphemeralKeySet says so explicitly and works with SslStream there.
    // Windows SChannel cannot use ephemeral keys and macOS rejects the flag, so they get the default.
    private static X509KeyStorageFlags KeyStorageFlags =>
        OperatingSystem.IsLinux() ? X509KeyStorageFlags.EphemeralKeySet : X509KeyStorageFlags.DefaultKeySet;

    private static X509Certificate2 Checked(X509Certificate2 certificate, string path)
    {
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CryptographicException($"{path} holds no private key.");
        }

        return certificate;
    }
}
