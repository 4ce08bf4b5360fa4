using System.Net.Sockets;
using System.Text;
using Parley.Client;
using Parley.Protocol;

namespace Parley.IntegrationTests.SeedCompat;

/// <summary>
/// Issue 9: the design note's own client (../shared/seed/original/SktClient.py, run unmodified with python3) against
/// `parley serve --seed-compat`, with Parley users on the other side through the real CLI and client library.
/// </summary>
public sealed class SeedCompatTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task OldClient_AndParleyUser_TalkBothWays_GuestMarkedWithTilde()
    {
        await using var server = await StartServerAsync();
        var alice = await RegisterAsync(server, "alice");
        await using var aliceLive = await LibraryClient.LoginAsync(server, "alice", "lib");
        await aliceLive.SyncAsync(0);

        await using var bob = await SeedClientProcess.StartAsync(server.SeedCompatPort, "bob", "alice", _dir.Sub("bob-client"));
        await bob.WriteLineAsync("hello alice, from the old client");
        var received = await LibraryClient.NextEventAsync<MessageEvent>(aliceLive, m => m.Message.Text == "hello alice, from the old client");
        Assert.Equal("~bob", received.Message.From); // marked as a guest to the one who talks with them
        Assert.Contains(await aliceLive.WhoAsync(), u => u.User == "~bob");

        var sent = await Parley.As(alice, null, "send", "~bob", "hi bob, héllo from Parley");
        Assert.True(sent.ExitCode == 0, sent.ToString());
        await bob.WaitForAsync("hi bob, héllo from Parley");
        Assert.Contains("==== alice ====", bob.Output, StringComparison.Ordinal);

        // A long text is cut into pieces the old client can read whole (each under its recv(1024)).
        var longText = string.Concat(Enumerable.Range(0, 300).Select(i => $"w{i} "));
        Assert.Equal(0, (await Parley.As(alice, null, "send", "~bob", longText + "END")).ExitCode);
        await bob.WaitForAsync("END");
        Assert.Contains("w0 w1 w2", bob.Output, StringComparison.Ordinal);
        Assert.Contains("w299", bob.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", bob.Output, StringComparison.Ordinal);
        await bob.QuitAsync();
    }

    [Fact]
    public async Task OfflineGuest_CatchesUpOnReconnect_InOrder_Once()
    {
        await using var server = await StartServerAsync();
        var alice = await RegisterAsync(server, "alice");
        var work = _dir.Sub("carol-client");
        await using (var first = await SeedClientProcess.StartAsync(server.SeedCompatPort, "carol", "alice", work))
        {
            await first.WriteLineAsync("I'll be back");
            await WaitForLogAsync(server, "Guest ~carol connected");
            await first.QuitAsync();
        }

        await WaitForLogAsync(server, "Guest ~carol left");
        Assert.Equal(0, (await Parley.As(alice, null, "send", "~carol", "first while you were away")).ExitCode);
        Assert.Equal(0, (await Parley.As(alice, null, "send", "~carol", "second while you were away")).ExitCode);

        await using (var back = await SeedClientProcess.StartAsync(server.SeedCompatPort, "carol", "alice", work))
        {
            await back.WaitForAsync("second while you were away");
            var output = back.Output;
            Assert.True(output.IndexOf("first while", StringComparison.Ordinal) < output.IndexOf("second while", StringComparison.Ordinal), output);
            await back.QuitAsync();
        }

        await WaitForLogAsync(server, "Guest ~carol left", occurrences: 2);
        Assert.Equal(0, (await Parley.As(alice, null, "send", "~carol", "third")).ExitCode);
        await using var again = await SeedClientProcess.StartAsync(server.SeedCompatPort, "carol", "alice", work);
        await again.WaitForAsync("third");
        // Entries come in log order, so anything delivered twice would have come before "third".
        Assert.Equal(0, again.Count("first while you were away"));
        await again.QuitAsync();
    }

    [Fact]
    public async Task TextFile_FromOldClient_ArrivesAsFileOffer_SameBytes()
    {
        await using var server = await StartServerAsync();
        var alice = await RegisterAsync(server, "alice");
        await using var aliceLive = await LibraryClient.LoginAsync(server, "alice", "lib");
        await aliceLive.SyncAsync(0);
        var work = _dir.Sub("dave-client");
        Directory.CreateDirectory(work);
        // Several of the client's 512-character chunks, non-ASCII included, LF line ends (it reads in text mode).
        var content = string.Concat(Enumerable.Range(0, 120).Select(i => $"line {i}: café, naïve, ☕ and some words\n"));
        await File.WriteAllTextAsync(Path.Combine(work, "notes.txt"), content, new UTF8Encoding(false));

        await using var dave = await SeedClientProcess.StartAsync(server.SeedCompatPort, "dave", "alice", work);
        await dave.WriteLineAsync("@trans:notes.txt");
        await dave.WaitForAsync("++Done.");
        var offer = await LibraryClient.NextEventAsync<MessageEvent>(aliceLive, m => m.File is not null);
        Assert.Equal("~dave", offer.Message.From);
        Assert.Equal("notes.txt", offer.File!.Name);
        Assert.Equal((ulong)Encoding.UTF8.GetByteCount(content), offer.File.Size);

        var got = await Parley.As(alice, null, "get", offer.File.FileId.ToString(), "--to", _dir.Sub("alice-files"));
        Assert.True(got.ExitCode == 0, got.ToString());
        Assert.Equal(Encoding.UTF8.GetBytes(content), await File.ReadAllBytesAsync(Path.Combine(_dir.Sub("alice-files"), "notes.txt")));
        await dave.QuitAsync();
    }

    [Fact]
    public async Task File_FromParleyUser_IsWrittenByOldClient_BinaryGetsANotice()
    {
        await using var server = await StartServerAsync();
        var alice = await RegisterAsync(server, "alice");
        var work = _dir.Sub("erin-client");
        await using var erin = await SeedClientProcess.StartAsync(server.SeedCompatPort, "erin", "alice", work);
        await WaitForLogAsync(server, "Guest ~erin connected");

        var content = string.Concat(Enumerable.Range(0, 80).Select(i => $"report line {i} — ünïcödé\n"));
        var report = _dir.Sub("report.txt");
        await File.WriteAllTextAsync(report, content, new UTF8Encoding(false));
        var sent = await Parley.As(alice, null, "send-file", "~erin", report);
        Assert.True(sent.ExitCode == 0, sent.ToString());
        await erin.WaitForAsync("++Recvive finish");
        // The client writes NAME + ".txt"; the server sent "report" so the file keeps its name.
        Assert.Equal(content, await File.ReadAllTextAsync(Path.Combine(work, "report.txt")));

        var binary = _dir.Sub("photo.bin");
        await File.WriteAllBytesAsync(binary, Enumerable.Range(0, 256).Select(i => (byte)i).ToArray());
        Assert.Equal(0, (await Parley.As(alice, null, "send-file", "~erin", binary)).ExitCode);
        await erin.WaitForAsync("photo.bin (256 bytes), that this client cannot receive");
        Assert.DoesNotContain("Traceback", erin.Output, StringComparison.Ordinal);
        await erin.QuitAsync();
    }

    [Fact]
    public async Task GuestName_OwnedByAccount_IsRefused()
    {
        await using var server = await StartServerAsync();
        await RegisterAsync(server, "alice");
        await using var fake = await SeedClientProcess.StartAsync(server.SeedCompatPort, "alice", "bob", _dir.Sub("fake-client"));
        await fake.WaitForAsync("the name alice belongs to a Parley account");
        await fake.DisposeAsync(); // see SecondGuest_...: the refused client would spin
        await WaitForLogAsync(server, "Guest connection from 127.0.0.1 refused");
        Assert.DoesNotContain("Guest ~alice connected", server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondGuest_WithSameName_IsRefused_FirstKeepsItsMessages()
    {
        await using var server = await StartServerAsync();
        var alice = await RegisterAsync(server, "alice");
        await using var first = await SeedClientProcess.StartAsync(server.SeedCompatPort, "frank", "alice", _dir.Sub("frank-1"));
        await WaitForLogAsync(server, "Guest ~frank connected");
        var second = await SeedClientProcess.StartAsync(server.SeedCompatPort, "frank", "alice", _dir.Sub("frank-2"));
        await second.WaitForAsync("a guest named frank is already connected");
        // Closed by the server, the note's client spins in its receive loop (recv returns b"" forever): stop it.
        await second.DisposeAsync();

        Assert.Equal(0, (await Parley.As(alice, null, "send", "~frank", "for the first frank")).ExitCode);
        await first.WaitForAsync("for the first frank");
        Assert.Equal(0, second.Count("for the first frank"));
        await first.QuitAsync();
    }

    [Fact]
    public async Task RawSocket_SplitJoinedOversizedAndBadFrames_ClearErrors_NothingElseLost()
    {
        await using var server = await StartServerAsync();
        await RegisterAsync(server, "alice");
        await using var aliceLive = await LibraryClient.LoginAsync(server, "alice", "lib");
        await aliceLive.SyncAsync(0);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", server.SeedCompatPort);
        var replies = new SeedWireReader(socket);

        // The name joined with two frames in one write (as a piped stdin makes the old client do).
        await socket.SendAsync(Encoding.ASCII.GetBytes("gina" + Frame("gina", "alice", "one") + Frame("gina", "alice", "two")));
        Assert.Equal("one", (await LibraryClient.NextEventAsync<MessageEvent>(aliceLive, m => m.Message.From == "~gina")).Message.Text);
        Assert.Equal("two", (await LibraryClient.NextEventAsync<MessageEvent>(aliceLive, m => m.Message.From == "~gina")).Message.Text);

        // One frame, one byte per write.
        foreach (var b in Encoding.ASCII.GetBytes(Frame("gina", "alice", "three, byte by byte")))
        {
            await socket.SendAsync(new[] { b });
        }

        Assert.Equal("three, byte by byte", (await LibraryClient.NextEventAsync<MessageEvent>(aliceLive, m => m.Message.From == "~gina")).Message.Text);

        // An oversized frame, bad base64, a spoofed sender: each refused with a notice; the frames around them arrive.
        var huge = Frame("gina", "alice", new string('x', 200 * 1024));
        await socket.SendAsync(Encoding.ASCII.GetBytes(huge + "gina|alice|1:2:3|!!not base64!!||" + "mallory|alice|1:2:3|aGk=||" + Frame("gina", "alice", "four")));
        Assert.Equal("four", (await LibraryClient.NextEventAsync<MessageEvent>(aliceLive, m => m.Message.From == "~gina")).Message.Text);
        Assert.Contains("a frame is at most", await replies.NextAsync("SEVER"), StringComparison.Ordinal);
        Assert.Contains("not valid base64", await replies.NextAsync("SEVER"), StringComparison.Ordinal);
        Assert.Contains("you are gina", await replies.NextAsync("SEVER"), StringComparison.Ordinal);

        await socket.SendAsync(Encoding.ASCII.GetBytes(Frame("gina", "nobody", "anyone there?")));
        Assert.Contains("there is no user nobody", await replies.NextAsync("SEVER"), StringComparison.Ordinal);

        // A reply from alice comes back in the note's format, and the goodbye ends the connection cleanly.
        await aliceLive.SendAsync(MessageId.NewRandom(), "~gina", "back to you");
        Assert.Equal("back to you", await replies.NextAsync("alice"));
        await socket.SendAsync(Encoding.ASCII.GetBytes("gina|SEVER||EXIT"));
        await WaitForLogAsync(server, "Guest ~gina left: said goodbye");
    }

    [Fact]
    public async Task Guest_FloodingFrames_IsRateLimitedLikeEveryone_AndClosedWithAReason()
    {
        await using var server = await StartServerAsync();
        await RegisterAsync(server, "alice");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", server.SeedCompatPort);
        var replies = new SeedWireReader(socket);
        // 400 frames at once: past the burst of 50 they wait at 20/s, and 100 delayed in a row with more queued is a flood.
        var flood = new StringBuilder("hank");
        for (var i = 0; i < 400; i++)
        {
            flood.Append(Frame("hank", "alice", $"flood {i}"));
        }

        await socket.SendAsync(Encoding.ASCII.GetBytes(flood.ToString()));
        Assert.Contains("sending too fast", await replies.NextAsync("SEVER"), StringComparison.Ordinal);
        await WaitForLogAsync(server, "Guest ~hank left: sending too fast");
    }

    [Fact]
    public async Task ServerShutdown_TellsTheGuest_AndExitsCleanly()
    {
        await using var server = await StartServerAsync();
        await using var ivy = await SeedClientProcess.StartAsync(server.SeedCompatPort, "ivy", "alice", _dir.Sub("ivy-client"));
        await WaitForLogAsync(server, "Guest ~ivy connected");
        await server.StopAsync();
        Assert.Equal(0, server.ExitCode);
        await ivy.WaitForAsync("the server is shutting down");
    }

    public void Dispose() => _dir.Dispose();

    private static string Frame(string sender, string receiver, string text) =>
        $"{sender}|{receiver}|12:0:0|{Convert.ToBase64String(Encoding.UTF8.GetBytes(text))}||";

    private async Task<ServerProcess> StartServerAsync() =>
        await ServerProcess.StartAsync(_dir.Sub("data"), "--seed-compat", "127.0.0.1:0", "--log-level", "Information");

    private async Task<string> RegisterAsync(ServerProcess server, string user)
    {
        var home = _dir.Sub(user);
        await Accounts.RegisterAsync(server, home, user);
        return home;
    }

    /// <summary>Waits (on the server's own log, not a sleep) until a line appears <paramref name="occurrences"/> times.</summary>
    private static async Task WaitForLogAsync(ServerProcess server, string text, int occurrences = 1)
    {
        var deadline = DateTime.UtcNow + Parley.Timeout;
        while (System.Text.RegularExpressions.Regex.Matches(server.Log, System.Text.RegularExpressions.Regex.Escape(text)).Count < occurrences)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no \"{text}\" in the server log within {Parley.Timeout}:\n{server.Log}");
            await Task.Delay(20);
        }
    }
}
