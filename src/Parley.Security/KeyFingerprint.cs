using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Security;

/// <summary>
/// The pin of a TLS identity: lowercase hex SHA-256 of the certificate's SubjectPublicKeyInfo. Pinning the key rather
/// than the whole certificate keeps the pin valid when the certificate is re-issued with the same key
/// (security.md "Recommended crypto", V2).
/// </summary>
public static class KeyFingerprint
{
    /// <summary>Length of a fingerprint in hex characters.</summary>
    public const int HexLength = SHA256.HashSizeInBytes * 2;

    /// <summary>The fingerprint of <paramref name="certificate"/>'s public key.</summary>
    public static string Of(X509Certificate certificate) => Convert.ToHexStringLower(Compute(certificate));

    /// <summary>
    /// True when <paramref name="certificate"/>'s key has the fingerprint <paramref name="expectedHex"/> (either
    /// case); compares in fixed time; false for a malformed fingerprint.
    /// </summary>
    public static bool Matches(X509Certificate certificate, string expectedHex)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return TryDecode(expectedHex, out var expected)
            && CryptographicOperations.FixedTimeEquals(Compute(certificate), expected);
    }

    /// <summary>True when <paramref name="fingerprint"/> is 64 hex characters.</summary>
    public static bool IsWellFormed(string? fingerprint) => TryDecode(fingerprint, out _);

    internal static bool TryDecode(string? hex, out byte[] bytes)
    {
        bytes = [];
        if (hex is null || hex.Length != HexLength)
        {
            return false;
        }

        foreach (var c in hex)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        bytes = Convert.FromHexString(hex);
        return true;
    }

    internal static bool Equal(string a, string b) =>
        TryDecode(a, out var left) && TryDecode(b, out var right) && CryptographicOperations.FixedTimeEquals(left, right);

    private static byte[] Compute(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate is X509Certificate2 certificate2)
        {
            return SHA256.HashData(certificate2.PublicKey.ExportSubjectPublicKeyInfo());
        }

        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return SHA256.HashData(copy.PublicKey.ExportSubjectPublicKeyInfo());
    }
}
