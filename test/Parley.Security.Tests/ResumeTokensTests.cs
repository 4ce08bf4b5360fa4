using System.Security.Cryptography;

namespace Parley.Security.Tests;

public sealed class ResumeTokensTests
{
    [Fact]
    public void NewToken_Always_Is32RandomBytes()
    {
        var first = ResumeTokens.NewToken();
        var second = ResumeTokens.NewToken();
        Assert.Equal(32, first.Length);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void HashToken_Token_IsSha256()
    {
        var token = ResumeTokens.NewToken();
        var hash = ResumeTokens.HashToken(token);
        Assert.Equal(SHA256.HashData(token), hash);
        Assert.NotEqual(token, hash);
    }

    [Fact]
    public void Matches_SameOrOtherToken_TrueOnlyForSame()
    {
        var token = ResumeTokens.NewToken();
        var stored = ResumeTokens.HashToken(token);
        Assert.True(ResumeTokens.Matches(token, stored));
        Assert.False(ResumeTokens.Matches(ResumeTokens.NewToken(), stored));
        Assert.False(ResumeTokens.Matches(token, stored.AsSpan(0, 16)));
    }
}
