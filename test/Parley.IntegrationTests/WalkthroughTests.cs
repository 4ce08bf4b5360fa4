namespace Parley.IntegrationTests;

/// <summary>The README's walk-through, run for real: two users, a server process, the CLI.</summary>
public sealed class WalkthroughTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task TwoUsers_SendAndListen_EachMessageOnceWithConversationOnEveryLine()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        var bob = _dir.Sub("bob");
        await Accounts.RegisterAsync(server, alice, "Alice");
        await Accounts.RegisterAsync(server, bob, "bob");

        Assert.Equal(0, (await Parley.As(alice, null, "send", "bob", "hello", "bob")).ExitCode);
        Assert.Equal(0, (await Parley.As(alice, null, "send", "BOB", "second")).ExitCode);

        var first = await Parley.As(bob, null, "listen");
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(2, first.Lines.Length);
        Assert.EndsWith("alice -> bob: hello bob", first.Lines[0], StringComparison.Ordinal);
        Assert.EndsWith("alice -> bob: second", first.Lines[1], StringComparison.Ordinal);

        var again = await Parley.As(bob, null, "listen");
        Assert.Equal(0, again.ExitCode);
        Assert.Empty(again.Lines);

        // The sender's other device sees its own side of the conversation too.
        var sent = await Parley.As(alice, null, "listen", "--json");
        Assert.Equal(2, sent.Lines.Length);
        Assert.Contains("\"from\":\"alice\"", sent.Lines[0], StringComparison.Ordinal);
        Assert.Contains("\"sequence\":1", sent.Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task EchoAccount_AnyText_ComesBackUpperCased()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        await Accounts.RegisterAsync(server, alice, "alice");

        Assert.Equal(0, (await Parley.As(alice, null, "send", "echo", "is anybody there?")).ExitCode);
        var heard = await Parley.As(alice, null, "listen");

        Assert.Contains(heard.Lines, line => line.EndsWith("echo -> alice: IS ANYBODY THERE?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Chat_LineModeScript_SwitchesAndSendsWithNoteAliases()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        var bob = _dir.Sub("bob");
        var carol = _dir.Sub("carol");
        await Accounts.RegisterAsync(server, alice, "alice");
        await Accounts.RegisterAsync(server, bob, "bob");
        await Accounts.RegisterAsync(server, carol, "carol");

        var chat = await Parley.As(alice, "/query bob\nhi bob\n@switch:carol\nhi carol\n/msg bob one more\n/who\n@help\n/nonsense\n@exit\n", "chat");

        Assert.True(chat.ExitCode == 0, chat.ToString());
        Assert.Contains("* talking to carol", chat.Stdout, StringComparison.Ordinal);
        Assert.Contains("! unknown command /nonsense", chat.Stdout, StringComparison.Ordinal);
        Assert.Contains("/query NAME", chat.Stdout, StringComparison.Ordinal);
        var bobs = await Parley.As(bob, null, "listen");
        Assert.Equal(["hi bob", "one more"], bobs.Lines.Select(l => l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..]));
        var carols = await Parley.As(carol, null, "listen");
        Assert.Single(carols.Lines);
        Assert.EndsWith("alice -> carol: hi carol", carols.Lines[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("register")]
    [InlineData("login")]
    [InlineData("logout")]
    [InlineData("send")]
    [InlineData("listen")]
    [InlineData("who")]
    [InlineData("chat")]
    public async Task EveryVerb_Help_PrintsUsageAndExitsZero(string verb)
    {
        var result = await Parley.RunAsync(null, verb, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(verb, result.Stdout, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
