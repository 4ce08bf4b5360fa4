using System.Security.Cryptography;

namespace Parley.Security.Tests;

public sealed class KeyFingerprintTests
{
    [Fact]
    public void Of_Certificate_IsLowercaseHexSha256OfSpki()
    {
        using var dir = new TempDirectory();
        using var certificate = ServerCertificate.LoadOrCreate(dir.Path);

        var fingerprint = KeyFingerprint.Of(certificate);

        Assert.Matches("^[0-9a-f]{64}$", fingerprint);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo())), fingerprint);
        Assert.True(KeyFingerprint.IsWellFormed(fingerprint));
    }

    [Fact]
    public void Matches_SameFingerprintAnyCase_ReturnsTrue()
    {
        using var dir = new TempDirectory();
        using var certificate = ServerCertificate.LoadOrCreate(dir.Path);
        var fingerprint = KeyFingerprint.Of(certificate);

        Assert.True(KeyFingerprint.Matches(certificate, fingerprint));
        Assert.True(KeyFingerprint.Matches(certificate, fingerprint.ToUpperInvariant()));
    }

    [Fact]
    public void Matches_OneBitDifferent_ReturnsFalse()
    {
        using var dir = new TempDirectory();
        using var certificate = ServerCertificate.LoadOrCreate(dir.Path);
        var bytes = Convert.FromHexString(KeyFingerprint.Of(certificate));
        bytes[^1] ^= 1;

        Assert.False(KeyFingerprint.Matches(certificate, Convert.ToHexStringLower(bytes)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData(" 000000000000000000000000000000000000000000000000000000000000000")]
    public void Matches_MalformedHex_ReturnsFalse(string expected)
    {
        using var dir = new TempDirectory();
        using var certificate = ServerCertificate.LoadOrCreate(dir.Path);

        Assert.False(KeyFingerprint.Matches(certificate, expected));
        Assert.False(KeyFingerprint.IsWellFormed(expected));
    }
}
