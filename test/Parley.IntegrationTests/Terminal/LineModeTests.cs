namespace Parley.IntegrationTests.Terminal;

/// <summary>`parley chat` in line mode through redirected stdio, against a real server: what a script sees.</summary>
public sealed class LineModeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Script_ReadsMessagesWithTheirConversation_AndUsesTheSameCommands()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        var bob = _dir.Sub("bob");
        await Accounts.RegisterAsync(server, alice, "alice");
        await Accounts.RegisterAsync(server, bob, "bob");

        // Sent while bob is not running: he gets it as a catch-up, marked as such; the note's @trans: sends a file.
        var report = _dir.Sub("report.bin");
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        await File.WriteAllBytesAsync(report, bytes);
        var sent = await Parley.As(alice, $"/query bob\nwhile you were out\n/help query\n@trans:{report}\n/close\n/quit\n", "chat");
        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.Contains("/query NAME      talk to NAME", sent.Stdout, StringComparison.Ordinal);
        var offered = System.Text.RegularExpressions.Regex.Match(sent.Stdout, @"sent report\.bin to bob \(file id ([0-9a-f]{32})\)");
        Assert.True(offered.Success, sent.Stdout);
        Assert.Contains("* closed bob", sent.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\x1b[", sent.Stdout, StringComparison.Ordinal);

        await using var bobChat = LineChatProcess.Start(bob);
        await bobChat.WaitForAsync("] [alice] <alice> while you were out");
        await bobChat.WaitForAsync("* up to date");
        Assert.Contains("-- arrived while you were offline --", bobChat.Output, StringComparison.Ordinal);
        await bobChat.WriteLineAsync($"/get {offered.Groups[1].Value}");
        await bobChat.WaitForAsync("(SHA-256 verified)");
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(bob, "downloads", "report.bin")));

        // Live, both ways, with the conversation on every line.
        var live = await Parley.As(alice, "/msg bob live one\n/quit\n", "chat");
        Assert.True(live.ExitCode == 0, live.ToString());
        await bobChat.WaitForAsync("] [alice] <alice> live one");
        await bobChat.WriteLineAsync("@switch:alice");
        await bobChat.WriteLineAsync("answer from bob");
        await bobChat.WaitForAsync("] [alice] <bob> answer from bob");
        Assert.Equal(0, await bobChat.QuitAsync());

        var alices = await Parley.As(alice, null, "listen");
        Assert.Contains("answer from bob", alices.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_FollowsThePeersPresence_OnlyTheirs()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        var bob = _dir.Sub("bob");
        var carol = _dir.Sub("carol");
        await Accounts.RegisterAsync(server, alice, "alice");
        await Accounts.RegisterAsync(server, bob, "bob");
        await Accounts.RegisterAsync(server, carol, "carol");

        await using var bobChat = LineChatProcess.Start(bob);
        await bobChat.WaitForAsync("* up to date");
        await bobChat.WriteLineAsync("/query alice");
        await bobChat.WaitForAsync("* alice is offline");

        // carol comes and goes unwatched; then alice does, and bob is told of alice only.
        Assert.Equal(0, (await Parley.As(carol, null, "listen")).ExitCode);
        Assert.Equal(0, (await Parley.As(alice, null, "listen")).ExitCode);
        await bobChat.WaitForAsync("* alice is online\n* alice is offline");
        Assert.Equal(0, await bobChat.QuitAsync());

        Assert.DoesNotContain("carol is", bobChat.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
