using System.Text;
using System.Text.RegularExpressions;

namespace Parley.Security.Tests;

public sealed class PasswordHasherTests
{
    internal static readonly PasswordHashOptions Cheap = new() { MemoryKiB = 1024, Iterations = 1 };

    [Trait("Security", "14")]
    [Fact]
    public void Hash_ThenVerifySamePassword_ReturnsTrue()
    {
        var hasher = new PasswordHasher(Cheap);
        var phc = hasher.Hash("correct horse battery staple");
        Assert.True(hasher.Verify("correct horse battery staple", phc));
    }

    [Trait("Security", "14")]
    [Fact]
    public void Verify_WrongPassword_ReturnsFalse()
    {
        var hasher = new PasswordHasher(Cheap);
        var phc = hasher.Hash("correct horse battery staple");
        Assert.False(hasher.Verify("correct horse battery stapler", phc));
        Assert.False(hasher.Verify("", phc));
    }

    [Trait("Security", "14")]
    [Fact]
    public void Hash_Always_IsPhcWithParametersAndNoPassword()
    {
        const string password = "hunter2-Geheimnis";
        var hasher = new PasswordHasher(Cheap);
        var phc = hasher.Hash(password);

        Assert.Matches(new Regex(@"^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$"), phc);
        Assert.DoesNotContain(password, phc, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(password)).TrimEnd('='), phc, StringComparison.Ordinal);
    }

    [Trait("Security", "14")]
    [Fact]
    public void Hash_SamePasswordTwice_DiffersBySalt()
    {
        var hasher = new PasswordHasher(Cheap);
        var first = hasher.Hash("same");
        var second = hasher.Hash("same");
        Assert.NotEqual(first, second);
        Assert.True(hasher.Verify("same", first));
        Assert.True(hasher.Verify("same", second));
    }

    [Trait("Security", "14")]
    [Fact]
    public void Hash_DefaultOptions_UsesOwaspFloorAndVerifies()
    {
        var hasher = new PasswordHasher();
        var phc = hasher.Hash("default cost");

        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", phc, StringComparison.Ordinal);
        Assert.True(hasher.Verify("default cost", phc));
        Assert.False(hasher.Verify("default cos", phc));
        Assert.False(hasher.NeedsRehash(phc));
    }

    [Trait("Security", "14")]
    [Fact]
    public void Verify_PhcFromAnotherArgon2Implementation_ReturnsTrue()
    {
        // A published Argon2id PHC string for the password "secret" (m=4096, t=3, 16-byte salt), made by another
        // implementation: proves the format and the algorithm interoperate rather than only round-tripping.
        const string phc = "$argon2id$v=19$m=4096,t=3,p=1$RrtzvESo4bkSXrWxbc530g$Lyyvcbaa3UNVymz+LMbLjN2hClM6NSRQiMJqGg4vtNY";
        var hasher = new PasswordHasher(Cheap);
        Assert.True(hasher.Verify("secret", phc));
        Assert.False(hasher.Verify("Secret", phc));
        Assert.True(hasher.NeedsRehash(phc));
    }

    [Trait("Security", "14")]
    [Theory]
    [InlineData("")]
    [InlineData("not a hash")]
    [InlineData("$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")]
    [InlineData("$argon2id$v=16$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")]
    [InlineData("$argon2id$v=19$t=1,m=1024,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")]
    [InlineData("$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")]
    [InlineData("$argon2id$v=19$m=1024,t=0,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaA")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$!!!!")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g$extra")]
    public void Verify_MalformedPhc_ReturnsFalseWithoutHashing(string phc)
    {
        var hasher = new PasswordHasher(Cheap);
        Assert.False(hasher.Verify("password", phc));
        Assert.Equal(0, hasher.HashCount);
        Assert.True(hasher.NeedsRehash(phc));
    }

    [Trait("Security", "14")]
    [Fact]
    public void NeedsRehash_OptionsRaised_ReturnsTrueAndNewHashDoesNot()
    {
        var old = new PasswordHasher(Cheap);
        var phc = old.Hash("pw");
        Assert.False(old.NeedsRehash(phc));

        var raised = new PasswordHasher(Cheap with { Iterations = 2 });
        Assert.True(raised.NeedsRehash(phc));
        Assert.True(raised.Verify("pw", phc)); // the stored parameters are used, so old rows keep working
        var rehashed = raised.Hash("pw");
        Assert.False(raised.NeedsRehash(rehashed));
        Assert.Contains("m=1024,t=2,p=1", rehashed, StringComparison.Ordinal);

        Assert.True(new PasswordHasher(Cheap with { MemoryKiB = 2048 }).NeedsRehash(phc));
    }

    [Trait("Security", "14")]
    [Fact]
    public void HashCount_HashVerifyAndDummy_EachCountOne()
    {
        var hasher = new PasswordHasher(Cheap);
        Assert.Equal(0, hasher.HashCount);
        var phc = hasher.Hash("pw");
        Assert.Equal(1, hasher.HashCount);
        hasher.Verify("pw", phc);
        Assert.Equal(2, hasher.HashCount);
        hasher.Verify("wrong", phc);
        Assert.Equal(3, hasher.HashCount);
        hasher.VerifyDummy("anything");
        Assert.Equal(4, hasher.HashCount);
        hasher.NeedsRehash(phc);
        Assert.Equal(4, hasher.HashCount);
    }

    [Trait("Security", "14")]
    [Fact]
    public async Task HashCount_ParallelHashes_CountsEveryOne()
    {
        var hasher = new PasswordHasher(Cheap);
        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => hasher.Hash("pw" + i))));
        Assert.Equal(16, hasher.HashCount);
    }

    [Trait("Security", "14")]
    [Fact]
    public void Verify_ComposedAndDecomposedPassword_Match()
    {
        var hasher = new PasswordHasher(Cheap);
        var composed = "caf\u00e9";
        var decomposed = "cafe\u0301";
        Assert.NotEqual(composed, decomposed);

        var phc = hasher.Hash(decomposed);
        Assert.True(hasher.Verify(composed, phc));
    }

    [Trait("Security", "14")]
    [Fact]
    public void Hash_LoneSurrogate_Throws()
    {
        var hasher = new PasswordHasher(Cheap);
        Assert.Throws<ArgumentException>(() => hasher.Hash("bad\ud800"));
    }

    [Trait("Security", "14")]
    [Fact]
    public void Verify_LoneSurrogate_ReturnsFalseButStillHashes()
    {
        var hasher = new PasswordHasher(Cheap);
        var phc = hasher.Hash("bad\ufffd");
        var before = hasher.HashCount;
        Assert.False(hasher.Verify("bad\ud800", phc));
        Assert.Equal(before + 1, hasher.HashCount);
    }

    [Trait("Security", "14")]
    [Fact]
    public void Constructor_UnsupportedParallelism_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordHasher(Cheap with { Parallelism = 4 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordHasher(Cheap with { Iterations = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordHasher(Cheap with { MemoryKiB = 4 }));
    }
}
