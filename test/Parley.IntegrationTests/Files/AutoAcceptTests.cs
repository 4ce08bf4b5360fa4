namespace Parley.IntegrationTests.Files;

/// <summary>Nothing is fetched unless asked; `listen --auto-accept` is the way to ask for every offer.</summary>
public sealed class AutoAcceptTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Listen_WithAndWithoutAutoAccept_FetchesOnlyWhenAsked()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        var bob = _dir.Sub("bob");
        await Accounts.RegisterAsync(server, alice, "alice");
        await Accounts.RegisterAsync(server, bob, "bob");
        var first = _dir.Sub("first.bin");
        var second = _dir.Sub("second.bin");
        await File.WriteAllBytesAsync(first, [1, 2, 3]);
        await File.WriteAllBytesAsync(second, [4, 5, 6, 7]);

        Assert.Equal(0, (await Parley.As(alice, null, "send-file", "bob", first)).ExitCode);
        var plain = await Parley.As(bob, null, "listen");
        Assert.Contains("offers file \"first.bin\"", plain.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(bob, "downloads")) && Directory.EnumerateFiles(Path.Combine(bob, "downloads")).Any());

        Assert.Equal(0, (await Parley.As(alice, null, "send-file", "bob", second)).ExitCode);
        var fetched = await Parley.As(bob, null, "listen", "--auto-accept", "--to", _dir.Sub("inbox"));
        Assert.True(fetched.ExitCode == 0, fetched.ToString());
        Assert.Equal([4, 5, 6, 7], await File.ReadAllBytesAsync(Path.Combine(_dir.Sub("inbox"), "second.bin")));
        Assert.False(File.Exists(Path.Combine(_dir.Sub("inbox"), "first.bin"))); // offered before, already listed
    }

    public void Dispose() => _dir.Dispose();
}
