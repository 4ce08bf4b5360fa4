using System.Text.Json;
using Parley.Client;

namespace Parley.IntegrationTests.P2P;

/// <summary>A server, alice and bob registered, and bob's `listen --p2p --follow` up on a known endpoint.</summary>
public sealed class P2PSetup : IAsyncDisposable
{
    private P2PSetup(TempDirectory temp, ServerProcess server, PeerProcess bob, string bobEndpoint)
    {
        Temp = temp;
        Server = server;
        Bob = bob;
        BobEndpoint = bobEndpoint;
    }

    public TempDirectory Temp { get; }

    public ServerProcess Server { get; }

    public PeerProcess Bob { get; }

    public string BobEndpoint { get; }

    public string AliceHome => Temp.Sub("alice");

    public string BobHome => Temp.Sub("bob");

    public static async Task<P2PSetup> StartAsync()
    {
        var temp = new TempDirectory();
        var server = await ServerProcess.StartAsync(temp.Sub("data"), "--directory-heartbeat-interval", "2");
        await Accounts.RegisterAsync(server, temp.Sub("alice"), "alice");
        await Accounts.RegisterAsync(server, temp.Sub("bob"), "bob");
        var bob = PeerProcess.Start(temp.Sub("bob"), ["listen", "--p2p", "--follow", "--json", "--p2p-listen", "127.0.0.1:0"]);
        await bob.WaitReadyAsync();
        var ready = bob.Stderr.First(l => l.Contains("p2p ready", StringComparison.Ordinal));
        var endpoint = ready[(ready.LastIndexOf(' ') + 1)..];
        return new P2PSetup(temp, server, bob, endpoint);
    }

    /// <summary>The interactive device id of a home (what `listen` and `chat` use).</summary>
    public string DeviceOf(string home) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(home, "profile.json"))).RootElement.GetProperty("device").GetString()!;

    /// <summary>Puts alice's interactive device in the directory with its key, as `parley listen --p2p` would (dial-out only).</summary>
    public async Task RegisterAliceKeyAsync()
    {
        var device = DeviceOf(AliceHome);
        using var key = RawPeer.KeyOf(AliceHome, device);
        await using var connection = await LibraryClient.LoginAsync(Server, "alice", device);
        await connection.RegisterInDirectoryAsync("alice", device, "", Client.P2P.DeviceCertificate.Fingerprint(key));
    }

    /// <summary>A real `send --p2p` from alice still goes directly to bob.</summary>
    public async Task AssertBobStillServesAliceAsync()
    {
        var sent = await Parley.As(AliceHome, null, "send", "--p2p", "bob", "still there?");
        Assert.True(sent.ExitCode == 0 && sent.Stderr.Contains("delivered directly", StringComparison.Ordinal), sent.ToString());
        await Bob.WaitForAsync((o, _) => o.Any(l => l.Contains("still there?", StringComparison.Ordinal)), "alice's message at bob");
    }

    public async ValueTask DisposeAsync()
    {
        await Bob.DisposeAsync();
        await Server.DisposeAsync();
        Temp.Dispose();
    }
}
