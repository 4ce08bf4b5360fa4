namespace Parley.Security.Tests;

public sealed class KnownServersTests
{
    private const string PinA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string PinB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    [Trait("Security", "3")]
    [Fact]
    public void Check_NoPinWithoutAcceptNew_UnknownAndNothingStored()
    {
        using var dir = new TempDirectory();
        var known = new KnownServers(dir.Combine("known_servers"));

        Assert.Equal(PinDecision.Unknown, known.Check("chat.example:7000", PinA, acceptNew: false));
        Assert.Null(known.Lookup("chat.example:7000"));
        Assert.False(File.Exists(known.FilePath));
    }

    [Trait("Security", "3")]
    [Fact]
    public void Check_NoPinWithAcceptNew_AcceptedNewAndPersisted()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("known_servers");

        Assert.Equal(PinDecision.AcceptedNew, new KnownServers(path).Check("chat.example:7000", PinA, acceptNew: true));

        var reopened = new KnownServers(path);
        Assert.Equal(PinA, reopened.Lookup("chat.example:7000"));
        Assert.Equal(PinDecision.Trusted, reopened.Check("chat.example:7000", PinA, acceptNew: false));
        Assert.Equal($"chat.example:7000 {PinA}\n", File.ReadAllText(path));
    }

    [Trait("Security", "3")]
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Check_DifferentPinStored_ChangedAndNeverOverwritten(bool acceptNew)
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("known_servers");
        new KnownServers(path).Add("chat.example:7000", PinA);

        Assert.Equal(PinDecision.Changed, new KnownServers(path).Check("chat.example:7000", PinB, acceptNew));
        Assert.Equal(PinA, new KnownServers(path).Lookup("chat.example:7000"));
    }

    [Trait("Security", "3")]
    [Fact]
    public void Check_PinStoredForOtherPort_UnknownForThisOne()
    {
        using var dir = new TempDirectory();
        var known = new KnownServers(dir.Combine("known_servers"));
        known.Add("chat.example:7000", PinA);

        Assert.Equal(PinDecision.Unknown, known.Check("chat.example:7001", PinA, acceptNew: false));
        Assert.Equal(PinDecision.Trusted, known.Check("CHAT.example:7000", PinA.ToUpperInvariant(), acceptNew: false));
    }

    [Trait("Security", "3")]
    [Fact]
    public void Add_DifferentPinStored_ThrowsUntilRemoved()
    {
        using var dir = new TempDirectory();
        var known = new KnownServers(dir.Combine("known_servers"));
        known.Add("chat.example:7000", PinA);
        known.Add("chat.example:7000", PinA); // same pin again: no-op

        Assert.Throws<InvalidOperationException>(() => known.Add("chat.example:7000", PinB));
        Assert.True(known.Remove("chat.example:7000"));
        Assert.False(known.Remove("chat.example:7000"));
        known.Add("chat.example:7000", PinB);
        Assert.Equal(PinB, known.Lookup("chat.example:7000"));
    }

    [Trait("Security", "3")]
    [Fact]
    public void Add_NewFile_Mode0600AndNoTempFilesLeft()
    {
        using var dir = new TempDirectory();
        var known = new KnownServers(dir.Combine("known_servers"));
        known.Add("a:1", PinA);
        known.Add("b:2", PinB);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, TempDirectory.ModeOf(known.FilePath));
        Assert.Equal(["known_servers"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Trait("Security", "3")]
    [Fact]
    public void Add_FileWithCommentsAndJunk_KeepsThemAndIgnoresJunk()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("known_servers");
        File.WriteAllText(path, $"# my servers\n\nbroken line\nold:1 {PinA}\n");
        var known = new KnownServers(path);

        known.Add("new:2", PinB);

        Assert.Equal($"# my servers\n\nbroken line\nold:1 {PinA}\nnew:2 {PinB}\n", File.ReadAllText(path));
        Assert.Null(known.Lookup("broken"));
        Assert.Equal(PinA, known.Lookup("old:1"));
    }

    [Trait("Security", "3")]
    [Theory]
    [InlineData("host :1")]
    [InlineData("host:1\nevil:2")]
    [InlineData("#host:1")]
    [InlineData("")]
    public void Add_BadEndpoint_Throws(string endpoint)
    {
        using var dir = new TempDirectory();
        var known = new KnownServers(dir.Combine("known_servers"));
        Assert.ThrowsAny<ArgumentException>(() => known.Add(endpoint, PinA));
    }

    [Trait("Security", "3")]
    [Fact]
    public void Check_MalformedFingerprint_Throws()
    {
        using var dir = new TempDirectory();
        var known = new KnownServers(dir.Combine("known_servers"));
        Assert.Throws<ArgumentException>(() => known.Check("a:1", "not-a-fingerprint", acceptNew: true));
        Assert.False(File.Exists(known.FilePath));
    }
}
