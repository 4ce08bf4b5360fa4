using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Parley.Client;
using Xunit.Abstractions;

namespace Parley.IntegrationTests.P2P;

/// <summary>
/// P2P mode end to end (docs/p2p.md): real `parley serve`, `parley listen --p2p` and `parley chat --p2p` processes
/// on loopback. Heartbeat intervals are set to a second or two so that expiry takes seconds, not minutes.
/// </summary>
public sealed class PeerToPeerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThousandMessages_GoDirect_NothingThroughTheServer_WhichHoldsNoConnectionBetweenHeartbeats()
    {
        using var temp = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(temp.Sub("data"), "--directory-heartbeat-interval", "2", "--load-log-interval", "0.1");
        var (aliceHome, bobHome) = (temp.Sub("alice"), temp.Sub("bob"));
        await Accounts.RegisterAsync(server, aliceHome, "alice");
        await Accounts.RegisterAsync(server, bobHome, "bob");
        await using var bob = PeerProcess.Start(bobHome, ["listen", "--p2p", "--follow", "--json"]);
        await bob.WaitReadyAsync();
        await using var alice = PeerProcess.Start(aliceHome, ["chat", "--p2p"]);
        await alice.WaitReadyAsync();
        await alice.WriteLineAsync("/query bob");

        var texts = Enumerable.Range(1, 1000).Select(i => $"message {i:D4}").ToList();
        await alice.WriteLineAsync(texts[0]); // sets the link up (one lookup on each side)
        await bob.WaitForAsync((o, _) => o.Count >= 1, "the first message");
        var before = ServerLoad.All(server.Log)[^1];
        var clock = Stopwatch.StartNew();
        foreach (var text in texts.Skip(1))
        {
            await alice.WriteLineAsync(text);
        }

        await bob.WaitForAsync((o, _) => o.Count >= 1000, "1000 messages at bob");
        await alice.WaitForAsync((o, _) => o.Count(IsOutcome) >= 1000, "1000 send outcomes at alice");
        var elapsed = clock.Elapsed;
        var during = ServerLoad.All(server.Log)[^1];

        var received = PeerMessages.Parse(bob.Stdout);
        Assert.Equal(texts, received.Select(m => m.Text)); // all, once, in order
        Assert.Equal(1000, received.Select(m => m.Id).Distinct().Count());
        Assert.All(received, m => Assert.Equal(("alice", "direct"), (m.From, m.Path)));
        Assert.Equal(1000, alice.Stdout.Count(l => l == "* delivered directly"));
        Assert.Equal(0, during.Stored); // not one message passed through the server

        // Only heartbeats reached the server meanwhile (two devices, one every 2 s each), not one connection per message.
        var heartbeats = 2 * ((int)(elapsed.TotalSeconds / 2) + 2);
        Assert.True(during.Accepted - before.Accepted <= heartbeats,
            $"{during.Accepted - before.Accepted} connections accepted in {elapsed.TotalSeconds:0.0} s; at most {heartbeats} heartbeats expected");

        // Idle peers: the server holds no connection between heartbeats. Watch the load line for 4 s after the
        // exchange: it comes back to 0 connections and 0 sessions, never holds more than one heartbeat per peer, and
        // every connection it accepted meanwhile is accounted for by the heartbeats (2 peers, one each per 2 s).
        var watchStart = ServerLoad.All(server.Log)[^1];
        var watched = await WatchLoadAsync(server, TimeSpan.FromSeconds(4));
        output.WriteLine($"1000 direct messages in {elapsed.TotalSeconds:0.00} s; after: {watched.Count(l => l.Open == 0)}/{watched.Count} load samples at 0 connections, max {watched.Max(l => l.Open)}");
        Assert.Contains(watched, l => l.Open == 0 && l.Sessions == 0);
        Assert.All(watched, l => Assert.True(l.Open <= 2, $"{l.Open} connections open: more than one heartbeat per peer"));
        Assert.True(watched[^1].Accepted - watchStart.Accepted <= 2 * ((4 / 2) + 1), $"{watched[^1].Accepted - watchStart.Accepted} connections in 4 s of idle chat");
        Assert.All(watched, l => Assert.Equal(0, l.Stored));
        Assert.False(bob.HasExited || alice.HasExited);
    }

    [Trait("Security", "24")]
    [Fact]
    public async Task PeerKilledMidConversation_TheRestArriveThroughTheServer_NoneLost_AtMostTheLastShownRepeated()
    {
        using var temp = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(temp.Sub("data"), "--directory-heartbeat-interval", "1");
        var (aliceHome, bobHome) = (temp.Sub("alice"), temp.Sub("bob"));
        await Accounts.RegisterAsync(server, aliceHome, "alice");
        await Accounts.RegisterAsync(server, bobHome, "bob");
        var bob = PeerProcess.Start(bobHome, ["listen", "--p2p", "--follow", "--json"]);
        await using var alice = PeerProcess.Start(aliceHome, ["chat", "--p2p"]);
        List<(string Id, string From, string Text, string Path)> firstRun;
        try
        {
            await bob.WaitReadyAsync();
            await alice.WaitReadyAsync();
            await alice.WriteLineAsync("/query bob");
            var texts = Enumerable.Range(1, 300).Select(i => $"message {i:D3}").ToList();
            foreach (var text in texts.Take(150))
            {
                await alice.WriteLineAsync(text);
            }

            // Killed while the first half is still arriving (some messages are in flight), then the second half.
            await bob.WaitForAsync((o, _) => o.Count >= 100, "100 messages at bob before the kill");
            await bob.KillAsync();
            firstRun = PeerMessages.Parse(bob.Stdout);
            foreach (var text in texts.Skip(150))
            {
                await alice.WriteLineAsync(text);
            }

            await alice.WaitForAsync((o, _) => o.Count(IsOutcome) >= 300, "300 send outcomes at alice");
            Assert.Contains(alice.Stdout, l => l.StartsWith("* stored on the server", StringComparison.Ordinal));

            // Bob comes back (not following: fetch what is parked, print, exit).
            var secondRun = await Parley.As(bobHome, null, "listen", "--p2p", "--json");
            Assert.True(secondRun.ExitCode == 0, secondRun.ToString());
            var later = PeerMessages.Parse(secondRun.Lines);

            // Every message arrives. kill -9 can land between printing a message and remembering it as shown (the
            // order that never loses one, as `parley listen`), so at most that one message, the last printed before
            // the kill, may be shown again after it; nothing else twice.
            var repeated = later.Where(m => firstRun.Any(f => f.Id == m.Id)).ToList();
            Assert.True(repeated.Count <= 1, $"{repeated.Count} messages shown again after the kill");
            if (repeated.Count == 1)
            {
                Assert.Equal(firstRun[^1].Id, repeated[0].Id);
            }

            var all = firstRun.Concat(later.Except(repeated)).ToList();
            Assert.Equal(texts, all.Select(m => m.Text).Order(StringComparer.Ordinal)); // every message, each once
            Assert.Equal(300, all.Select(m => m.Id).Distinct().Count());
            Assert.All(firstRun, m => Assert.Equal("direct", m.Path));
            Assert.All(later, m => Assert.Equal("server", m.Path));
            Assert.NotEmpty(later);
            output.WriteLine($"{firstRun.Count} direct before the kill, {later.Count} through the server after");
        }
        finally
        {
            await bob.DisposeAsync();
        }
    }

    [Trait("Security", "25")]
    [Fact]
    public async Task SilentPeer_DisappearsFromTheDirectoryAfterMissedHeartbeats_AndReturnsWhenItSpeaksAgain()
    {
        using var temp = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(temp.Sub("data"),
            "--directory-heartbeat-interval", "1", "--directory-missed-heartbeats", "3");
        var (aliceHome, bobHome) = (temp.Sub("alice"), temp.Sub("bob"));
        await Accounts.RegisterAsync(server, aliceHome, "alice");
        await Accounts.RegisterAsync(server, bobHome, "bob");
        await using var bob = PeerProcess.Start(bobHome, ["listen", "--p2p", "--follow"]);
        await bob.WaitReadyAsync();
        await using var probe = await LibraryClient.LoginAsync(server, "alice", "probe");
        Assert.Single((await probe.LookupAsync("bob")).Entries);

        await bob.SignalAsync("STOP"); // silent: no heartbeat, no FIN, the entry is simply not renewed
        var silent = Stopwatch.StartNew();
        try
        {
            await WaitUntilAsync(async () => (await probe.LookupAsync("bob")).Entries.Count == 0, "bob's entry to expire");
            // The last heartbeat came at most 1 s before the silence, and the entry lives 3 s after it.
            Assert.True(silent.Elapsed >= TimeSpan.FromSeconds(2), $"forgotten after {silent.Elapsed.TotalSeconds:0.0} s of silence");
            if (!ServerProcess.ClusterMode) // in cluster mode NATS drops the entry silently (docs/p2p.md, "The directory in cluster mode")
            {
                await WaitUntilAsync(() => Task.FromResult(server.Log.Contains("forgotten after 3 missed heartbeats", StringComparison.Ordinal)), "the expiry log line");
            }
        }
        finally
        {
            await bob.SignalAsync("CONT");
        }

        // Its next heartbeat is refused as unknown; it registers again by itself.
        await WaitUntilAsync(async () => (await probe.LookupAsync("bob")).Entries.Count == 1, "bob to register again");
        await bob.WaitForAsync((_, e) => e.Any(l => l.Contains("registering again", StringComparison.Ordinal)), "bob's re-registration status");
    }

    [Trait("Security", "26")]
    [Fact]
    public async Task Impostor_OnTheRegisteredEndpointWithAnotherKey_IsRefused_AndTheMessageGoesThroughTheServer()
    {
        using var temp = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(temp.Sub("data"), "--directory-heartbeat-interval", "5");
        var (aliceHome, bobHome, malloryHome) = (temp.Sub("alice"), temp.Sub("bob"), temp.Sub("mallory"));
        await Accounts.RegisterAsync(server, aliceHome, "alice");
        await Accounts.RegisterAsync(server, bobHome, "bob");
        await Accounts.RegisterAsync(server, malloryHome, "mallory");
        var endpoint = $"127.0.0.1:{FreePort()}";

        var bob = PeerProcess.Start(bobHome, ["listen", "--p2p", "--follow", "--p2p-listen", endpoint]);
        await bob.WaitReadyAsync();
        await bob.KillAsync(); // bob's entry stays in the directory until it expires (15 s here)
        await bob.DisposeAsync();
        await using var mallory = PeerProcess.Start(malloryHome, ["listen", "--p2p", "--follow", "--json", "--p2p-listen", endpoint]);
        await mallory.WaitReadyAsync();

        var sent = await Parley.As(aliceHome, null, "send", "--p2p", "bob", "for bob's eyes only");

        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.Contains("stored on the server", sent.Stderr, StringComparison.Ordinal);
        Assert.Contains("not the", sent.Stderr, StringComparison.Ordinal); // "presented key …, not the … the directory lists"
        Assert.Empty(mallory.Stdout);
        Assert.DoesNotContain(mallory.Stderr, l => l.Contains("direct link from alice", StringComparison.Ordinal));
        var later = await Parley.As(bobHome, null, "listen", "--p2p", "--json");
        var message = Assert.Single(PeerMessages.Parse(later.Lines));
        Assert.Equal(("alice", "for bob's eyes only", "server"), (message.From, message.Text, message.Path));
    }

    [Trait("Security", "24")]
    [Fact]
    public async Task SendP2P_ToAPeerNotInTheDirectory_StoredOnTheServer_AndDirectOnceItListens()
    {
        using var temp = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(temp.Sub("data"), "--directory-heartbeat-interval", "1");
        var (aliceHome, bobHome) = (temp.Sub("alice"), temp.Sub("bob"));
        await Accounts.RegisterAsync(server, aliceHome, "alice");
        await Accounts.RegisterAsync(server, bobHome, "bob");

        var offline = await Parley.As(aliceHome, null, "send", "--p2p", "bob", "parked");
        Assert.True(offline.ExitCode == 0, offline.ToString());
        Assert.Contains("stored on the server (not in the directory)", offline.Stderr, StringComparison.Ordinal);

        await using var bob = PeerProcess.Start(bobHome, ["listen", "--p2p", "--follow", "--json"]);
        await bob.WaitReadyAsync();
        await bob.WaitForAsync((o, _) => o.Count >= 1, "the parked message");
        var online = await Parley.As(aliceHome, null, "send", "--p2p", "bob", "direct");
        Assert.Contains("delivered directly", online.Stderr, StringComparison.Ordinal);
        await bob.WaitForAsync((o, _) => o.Count >= 2, "the direct message");

        var messages = PeerMessages.Parse(bob.Stdout);
        Assert.Equal([("parked", "server"), ("direct", "direct")], messages.Select(m => (m.Text, m.Path)));
    }

    [Fact]
    public async Task P2PSetting_OfTheHome_MakesSendUseP2PWithoutTheFlag()
    {
        using var temp = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(temp.Sub("data"));
        var (aliceHome, bobHome) = (temp.Sub("alice"), temp.Sub("bob"));
        await Accounts.RegisterAsync(server, aliceHome, "alice");
        await Accounts.RegisterAsync(server, bobHome, "bob");

        var on = await Parley.As(aliceHome, null, "p2p", "on");
        var sent = await Parley.As(aliceHome, null, "send", "bob", "via the setting");
        var off = await Parley.As(aliceHome, null, "p2p", "off");
        var plain = await Parley.As(aliceHome, null, "send", "bob", "plain again");

        Assert.Equal("p2p on", on.Stdout.Trim());
        Assert.Contains("stored on the server (not in the directory)", sent.Stderr, StringComparison.Ordinal); // the P2P path's report
        Assert.Equal("p2p off", off.Stdout.Trim());
        Assert.True(plain.ExitCode == 0 && plain.Stderr.Length == 0, plain.ToString());
    }

    private static bool IsOutcome(string line) =>
        line.StartsWith("* delivered", StringComparison.Ordinal) || line.StartsWith("* stored", StringComparison.Ordinal);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The load lines the server logs during <paramref name="window"/> from now.</summary>
    private static async Task<List<ServerLoad>> WatchLoadAsync(ServerProcess server, TimeSpan window)
    {
        var start = ServerLoad.All(server.Log).Count;
        using var deadline = new CancellationTokenSource(window);
        try
        {
            await Task.Delay(Timeout.Infinite, deadline.Token);
        }
        catch (OperationCanceledException)
        {
        }

        return [.. ServerLoad.All(server.Log).Skip(start)];
    }

    /// <summary>Re-checks a condition (a lookup, the log) until it holds, within <see cref="Parley.Timeout"/>.</summary>
    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > Parley.Timeout)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(100);
        }
    }
}
