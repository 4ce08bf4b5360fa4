using Xunit.Abstractions;

namespace Parley.IntegrationTests.P2P;

/// <summary>
/// The server and two peers as separate hosts: three network namespaces on a bridge (10.77.0.1 server, .2 alice,
/// .3 bob) that the test creates and deletes. Shows that the directory hands out the address each peer is seen
/// from, that peers link directly host to host, and that a dead peer's messages go through the server.
/// Needs root and /usr/sbin/ip; without them it passes trivially and says why (as the tmux tests do).
/// </summary>
public sealed class NetworkNamespaceTests(ITestOutputHelper output)
{
    [Trait("Security", "26")]
    [Fact]
    public async Task ServerAndTwoPeersOnSeparateHosts_DirectThenThroughTheServer()
    {
        if (NetworkNamespaces.Unavailable() is { } reason)
        {
            output.WriteLine($"skipped: {reason}");
            return;
        }

        using var temp = new TempDirectory();
        var hosts = new NetworkNamespaces();
        var processes = new List<PeerProcess>();
        try
        {
            await hosts.CreateSwitchAsync();
            var (serverNs, serverIp) = await hosts.AddHostAsync("srv");
            var (aliceNs, aliceIp) = await hosts.AddHostAsync("a");
            var (bobNs, bobIp) = await hosts.AddHostAsync("b");
            var address = $"{serverIp}:7878";

            var server = Track(PeerProcess.Start(temp.Sub("server-home"),
                ["serve", "--data", temp.Sub("data"), "--listen", address, "--directory-heartbeat-interval", "1", "--load-log-interval", "0.5"], serverNs));
            await server.WaitForAsync((o, _) => o.Any(l => l.StartsWith("key fingerprint", StringComparison.Ordinal)), "the server to listen");

            var (aliceHome, bobHome) = (temp.Sub("alice"), temp.Sub("bob"));
            await RegisterAsync(aliceHome, "alice", address, aliceNs);
            await RegisterAsync(bobHome, "bob", address, bobNs);

            var bob = Track(PeerProcess.Start(bobHome, ["listen", "--p2p", "--follow", "--json"], bobNs));
            await bob.WaitReadyAsync();
            var alice = Track(PeerProcess.Start(aliceHome, ["chat", "--p2p"], aliceNs));
            await alice.WaitReadyAsync();
            await alice.WriteLineAsync("/query bob");
            for (var i = 1; i <= 50; i++)
            {
                await alice.WriteLineAsync($"across hosts {i:D2}");
            }

            await bob.WaitForAsync((o, _) => o.Count >= 50, "50 messages at bob");
            var direct = PeerMessages.Parse(bob.Stdout);
            Assert.All(direct, m => Assert.Equal("direct", m.Path));
            Assert.Equal(50, direct.Select(m => m.Text).Distinct().Count());
            // The directory gave out the address bob was seen from, and the link came from alice's host.
            Assert.Contains(server.Stderr, l => l.Contains($"bob/", StringComparison.Ordinal) && l.Contains($"registered at {bobIp}:", StringComparison.Ordinal));
            Assert.Contains(bob.Stderr, l => l.Contains($"direct link from alice/", StringComparison.Ordinal) && l.Contains($"({aliceIp}:", StringComparison.Ordinal));
            Assert.Contains(server.Stderr, l => l.Contains("0 messages stored", StringComparison.Ordinal));

            // Bob's host loses its peer process: the next messages go through the server, and bob gets them later, once.
            await bob.KillAsync();
            for (var i = 51; i <= 55; i++)
            {
                await alice.WriteLineAsync($"across hosts {i:D2}");
            }

            await alice.WaitForAsync((o, _) => o.Count(l => l.StartsWith("* stored on the server", StringComparison.Ordinal)) >= 5, "5 messages stored on the server");
            var later = Track(PeerProcess.Start(bobHome, ["listen", "--p2p", "--json"], bobNs));
            Assert.Equal(0, await later.WaitForExitAsync());
            var parked = PeerMessages.Parse(later.Stdout);
            Assert.Equal(Enumerable.Range(51, 5).Select(i => $"across hosts {i:D2}"), parked.Select(m => m.Text));
            Assert.All(parked, m => Assert.Equal("server", m.Path));
            output.WriteLine($"hosts {serverIp} (server), {aliceIp} (alice), {bobIp} (bob): 50 direct, 5 through the server");
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }

            await hosts.DisposeAsync();
        }

        Assert.Empty(await hosts.RemainingAsync()); // every namespace the test made is gone

        PeerProcess Track(PeerProcess process)
        {
            processes.Add(process);
            return process;
        }
    }

    private static async Task RegisterAsync(string home, string user, string server, string netns)
    {
        await using var register = PeerProcess.Start(home,
            ["register", "--server", server, "--user", user, "--password-stdin", "--accept-new-server-key"], netns);
        await register.WriteLineAsync(Accounts.Password);
        register.CloseInput();
        var exit = await register.WaitForExitAsync();
        Assert.True(exit == 0, register.Dump());
    }
}
