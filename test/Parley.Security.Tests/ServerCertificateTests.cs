using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.Security.Tests;

public sealed class ServerCertificateTests
{
    [Fact]
    public void LoadOrCreate_EmptyDirectory_CreatesEcdsaP256WithPrivateKey()
    {
        using var dir = new TempDirectory();
        using var certificate = ServerCertificate.LoadOrCreate(dir.Path);

        Assert.True(certificate.HasPrivateKey);
        Assert.Equal("CN=parley-server", certificate.Subject);
        using var key = certificate.GetECDsaPublicKey();
        Assert.NotNull(key);
        Assert.Equal(256, key.KeySize);
        Assert.InRange(certificate.NotAfter.ToUniversalTime(), DateTime.UtcNow.AddYears(10).AddDays(-2), DateTime.UtcNow.AddYears(10).AddDays(1));
        Assert.True(File.Exists(dir.Combine(ServerCertificate.FileName)));
    }

    [Fact]
    public void LoadOrCreate_NewPfx_HasMode0600AndNoTempFilesLeft()
    {
        using var dir = new TempDirectory();
        using var certificate = ServerCertificate.LoadOrCreate(dir.Path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, TempDirectory.ModeOf(dir.Combine(ServerCertificate.FileName)));
        Assert.Equal([ServerCertificate.FileName], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void LoadOrCreate_MissingDirectory_CreatesItOwnerOnly()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        using var certificate = ServerCertificate.LoadOrCreate(data, "CN=custom");

        Assert.Equal("CN=custom", certificate.Subject);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, TempDirectory.ModeOf(data));
    }

    [Fact]
    public void LoadOrCreate_Reload_SameKeyFromPfx()
    {
        using var dir = new TempDirectory();
        string first;
        byte[] firstSpki;
        using (var created = ServerCertificate.LoadOrCreate(dir.Path))
        {
            first = KeyFingerprint.Of(created);
            firstSpki = created.PublicKey.ExportSubjectPublicKeyInfo();
        }

        var pfxBefore = File.ReadAllBytes(dir.Combine(ServerCertificate.FileName));
        using var reloaded = ServerCertificate.LoadOrCreate(dir.Path);

        Assert.Equal(first, KeyFingerprint.Of(reloaded));
        Assert.Equal(firstSpki, reloaded.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.True(reloaded.HasPrivateKey);
        Assert.Equal(pfxBefore, File.ReadAllBytes(dir.Combine(ServerCertificate.FileName)));

        // The reloaded private key really belongs to the pinned public key.
        using var privateKey = reloaded.GetECDsaPrivateKey()!;
        using var publicKey = reloaded.GetECDsaPublicKey()!;
        var signature = privateKey.SignData("probe"u8, HashAlgorithmName.SHA256);
        Assert.True(publicKey.VerifyData("probe"u8, signature, HashAlgorithmName.SHA256));
    }

    [Fact]
    public void LoadOrCreate_TwoDirectories_DifferentKeys()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using var first = ServerCertificate.LoadOrCreate(a.Path);
        using var second = ServerCertificate.LoadOrCreate(b.Path);
        Assert.NotEqual(KeyFingerprint.Of(first), KeyFingerprint.Of(second));
    }

    [Fact]
    public void LoadOrCreate_PfxWithoutPrivateKey_Throws()
    {
        using var dir = new TempDirectory();
        using (var created = ServerCertificate.LoadOrCreate(dir.Path))
        {
            using var publicOnly = X509CertificateLoader.LoadCertificate(created.RawData);
            File.WriteAllBytes(dir.Combine(ServerCertificate.FileName), publicOnly.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, null));
        }

        Assert.Throws<CryptographicException>(() => ServerCertificate.LoadOrCreate(dir.Path));
    }
}
