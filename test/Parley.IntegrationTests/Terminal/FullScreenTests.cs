using System.Globalization;

namespace Parley.IntegrationTests.Terminal;

/// <summary>
/// The full-screen client on a real pty under tmux at a fixed size, against a real server: typing while messages
/// arrive, delivery receipts both ways, Alt+2, resize, Esc doing nothing, and /quit restoring the terminal. Deadlines, not sleeps.
/// Skipped (passes trivially) when tmux is missing; scripts/test.sh installs it.
/// </summary>
public sealed class FullScreenTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task TypeWhileMessagesArrive_SwitchWithAlt2_Resize_Quit()
    {
        if (!Tmux.Available)
        {
            return;
        }

        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        var bob = _dir.Sub("bob");
        await Accounts.RegisterAsync(server, alice, "alice");
        await Accounts.RegisterAsync(server, bob, "bob");
        var early = await Parley.As(bob, "/query alice\nsent while alice was away\n/quit\n", "chat");
        Assert.True(early.ExitCode == 0, early.ToString());

        using var tmux = new Tmux();
        // The shell records the client's exit code: tmux's own #{pane_dead_status} is not always filled in.
        var exitFile = _dir.Sub("chat.exit");
        tmux.Start($"dotnet {Parley.Dll} --home {alice} chat; echo $? > {exitFile}");
        await tmux.WaitForAsync("2-bob");
        await tmux.WaitForAsync("[Act: 2!]"); // a highlight: the message names alice

        tmux.Keys("M-2");
        await tmux.WaitForAsync("- 2:bob");
        await tmux.WaitForAsync("-- 1 message arrived while you were offline --");
        await tmux.WaitForAsync("<bob> sent while alice was away");

        // bob streams messages while alice types a line in pieces; the line must arrive whole.
        await using var bobChat = LineChatProcess.Start(bob);
        await bobChat.WriteLineAsync("/query alice");
        await tmux.WaitForAsync("2+bob");
        var typed = "typing while messages arrive, and nothing breaks";
        var pieces = typed.Chunk(6).Select(c => new string(c)).ToList();
        for (var i = 0; i < 20; i++)
        {
            await bobChat.WriteLineAsync("burst " + i.ToString(CultureInfo.InvariantCulture));
            if (i < pieces.Count)
            {
                tmux.Type(pieces[i]);
            }
        }

        foreach (var piece in pieces.Skip(20))
        {
            tmux.Type(piece);
        }

        await tmux.WaitForAsync("<bob> burst 19");
        await bobChat.WaitForAsync("* delivered to alice"); // alice's client acknowledged bob's messages
        await tmux.WaitForAsync("[bob] " + typed);
        tmux.Keys("Enter");
        await bobChat.WaitForAsync("] [alice] <alice> " + typed);
        // bob's client acknowledged it, so the server sent alice a receipt.
        await tmux.WaitForAsync("<alice> " + typed + "  [delivered]");

        // Esc is not "quit".
        tmux.Keys("Escape");
        tmux.Type("/who");
        tmux.Keys("Enter");
        await tmux.WaitForAsync("online: ");
        Assert.Equal("0", tmux.Display("#{pane_dead}"));

        tmux.Run("resize-window", "-x", "70", "-y", "20");
        var resized = await tmux.WaitForAsync(s =>
        {
            var rows = s.TrimEnd('\n').Split('\n');
            return rows.Length == 20 && rows[18].StartsWith("[", StringComparison.Ordinal) && rows[18].Contains("[alice] [2:bob]", StringComparison.Ordinal);
        }, "the status bar on row 19 of 20");
        Assert.All(resized.Split('\n'), row => Assert.True(row.Length <= 70, row));

        tmux.Type("/quit");
        tmux.Keys("Enter");
        await tmux.WaitForAsync(_ => File.Exists(exitFile) && File.ReadAllText(exitFile).Trim().Length > 0, "the client exit");
        Assert.Equal("0", File.ReadAllText(exitFile).Trim());
        // The alternate screen is gone: the chat's frame is not left on the terminal.
        Assert.DoesNotContain("[alice] [2:bob]", tmux.Capture(), StringComparison.Ordinal);
        Assert.Equal(0, await bobChat.QuitAsync());
    }

    [Fact]
    public async Task ServerKilledAndRestarted_ChatStaysUp_ReconnectsAndCatchesUp_ThenQuitsCleanly()
    {
        if (!Tmux.Available)
        {
            return;
        }

        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        var bob = _dir.Sub("bob");
        await Accounts.RegisterAsync(server, alice, "alice");
        await Accounts.RegisterAsync(server, bob, "bob");
        var before = await Parley.As(bob, null, "send", "alice", "before the crash");
        Assert.True(before.ExitCode == 0, before.ToString());

        using var tmux = new Tmux();
        var exitFile = _dir.Sub("chat.exit");
        tmux.Start($"dotnet {Parley.Dll} --home {alice} chat; echo $? > {exitFile}");
        await tmux.WaitForAsync("2-bob");
        tmux.Keys("M-2");
        await tmux.WaitForAsync("<bob> before the crash");

        await server.KillAsync();
        await tmux.WaitForAsync("[reconnecting]");
        Assert.Equal("0", tmux.Display("#{pane_dead}"));

        await server.RestartAsync();
        var after = await Parley.As(bob, null, "send", "alice", "after the restart");
        Assert.True(after.ExitCode == 0, after.ToString());
        // Caught up on the new connection, with nothing shown twice.
        var screen = await tmux.WaitForAsync("<bob> after the restart");
        Assert.Equal(1, CountOf(screen, "<bob> before the crash"));
        await tmux.WaitForAsync(s => !s.Contains("[reconnecting]", StringComparison.Ordinal), "the status bar without [reconnecting]");

        tmux.Type("/quit");
        tmux.Keys("Enter");
        await tmux.WaitForAsync(_ => File.Exists(exitFile) && File.ReadAllText(exitFile).Trim().Length > 0, "the client exit");
        Assert.Equal("0", File.ReadAllText(exitFile).Trim());
        Assert.DoesNotContain("<bob> after the restart", tmux.Capture(), StringComparison.Ordinal);
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    public void Dispose() => _dir.Dispose();
}
