namespace Parley.Protocol.Tests;

/// <summary>security.md 8: user names are NFC, lower case, [a-z0-9._-]{1,64}; device ids [A-Za-z0-9._-]{1,64}.</summary>
public sealed class NamesTests
{
    [Trait("Security", "8")]
    [Fact]
    public void NormalizeUser_AliceAndalice_SameAccount() =>
        Assert.Equal(Names.NormalizeUser("alice"), Names.NormalizeUser("Alice"));

    [Trait("Security", "8")]
    [Theory]
    [InlineData("ALICE", "alice")]
    [InlineData("Bob.Smith_2-x", "bob.smith_2-x")]
    [InlineData("a", "a")]
    [InlineData("0", "0")]
    [InlineData("...", "...")]
    public void NormalizeUser_ValidName_ReturnsLowerCase(string input, string expected) =>
        Assert.Equal(expected, Names.NormalizeUser(input));

    [Trait("Security", "8")]
    [Fact]
    public void NormalizeUser_64Chars_Accepted() =>
        Assert.Equal(new string('a', 64), Names.NormalizeUser(new string('A', 64)));

    [Trait("Security", "8")]
    [Fact]
    public void NormalizeUser_65Chars_ThrowsBadId()
    {
        var ex = Assert.Throws<ProtocolException>(() => Names.NormalizeUser(new string('a', 65)));

        Assert.Equal(ErrorCode.BadId, ex.Code);
    }

    [Trait("Security", "8")]
    [Theory]
    [InlineData("")]
    [InlineData("al ice")]
    [InlineData("alice@example")]
    [InlineData("alice!")]
    [InlineData("a/b")]
    [InlineData("a\0b")]
    [InlineData("émile")] // precomposed é
    [InlineData("zoë")]
    [InlineData("алиса")] // Cyrillic look-alike letters
    [InlineData("ａｌｉｃｅ")] // full-width Latin
    [InlineData("alice\u200B")] // zero-width space
    [InlineData("\uD800abc")] // lone surrogate
    public void NormalizeUser_CharacterOutsideAllowedSet_ThrowsBadId(string name)
    {
        Assert.False(Names.TryNormalizeUser(name, out var normalized));
        Assert.Equal(string.Empty, normalized);
        var ex = Assert.Throws<ProtocolException>(() => Names.NormalizeUser(name));
        Assert.Equal(ErrorCode.BadId, ex.Code);
    }

    [Trait("Security", "8")]
    [Fact]
    public void NormalizeUser_DecomposedAccent_RefusedAfterNfc()
    {
        // "e" + COMBINING ACUTE ACCENT composes to é (U+00E9) under NFC, which is outside [a-z0-9._-].
        var decomposed = "Rene\u0301";

        Assert.False(Names.TryNormalizeUser(decomposed, out _));
        Assert.False(Names.TryNormalizeUser("Ren\u00E9", out _));
    }

    [Trait("Security", "8")]
    [Fact]
    public void NormalizeUser_KelvinSign_NormalisesToAsciiK()
    {
        // U+212A KELVIN SIGN is canonically equivalent to K, so NFC then case-folding gives plain "kelvin".
        Assert.True(Names.TryNormalizeUser("\u212Aelvin", out var normalized));
        Assert.Equal("kelvin", normalized);
    }

    [Trait("Security", "8")]
    [Theory]
    [InlineData("phone")]
    [InlineData("Laptop-2")]
    [InlineData("a.b_c-D9")]
    [InlineData("x")]
    public void IsValidDevice_AllowedCharacters_True(string device) =>
        Assert.True(Names.IsValidDevice(device));

    [Trait("Security", "8")]
    [Fact]
    public void IsValidDevice_64Chars_True() =>
        Assert.True(Names.IsValidDevice(new string('D', 64)));

    [Trait("Security", "8")]
    [Theory]
    [InlineData("")]
    [InlineData("my phone")]
    [InlineData("phone#1")]
    [InlineData("téléphone")]
    [InlineData("a/b")]
    public void IsValidDevice_DisallowedCharacters_False(string device) =>
        Assert.False(Names.IsValidDevice(device));

    [Trait("Security", "8")]
    [Fact]
    public void IsValidDevice_65Chars_False() =>
        Assert.False(Names.IsValidDevice(new string('d', 65)));

    [Theory]
    [InlineData("~Bob", "~bob")]
    [InlineData("alice", "alice")]
    public void NormalizeRecipient_UserOrGuest(string input, string expected)
    {
        Assert.True(Names.TryNormalizeRecipient(input, out var normalized));
        Assert.Equal(expected, normalized);
        Assert.Equal(expected[0] == '~', Names.IsGuest(normalized));
    }

    [Theory]
    [InlineData("~")]
    [InlineData("~~bob")]
    [InlineData("b~ob")]
    public void NormalizeRecipient_BadGuestName_Refused(string input) =>
        Assert.False(Names.TryNormalizeRecipient(input, out _));

    [Trait("Security", "8")]
    [Fact]
    public void NormalizeUser_GuestName_Refused_SoNoAccountCanBeAGuest() =>
        Assert.False(Names.TryNormalizeUser("~bob", out _));
}
