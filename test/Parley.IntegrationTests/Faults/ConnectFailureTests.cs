using Parley.Client;

namespace Parley.IntegrationTests.Faults;

/// <summary>A connection attempt that fails after TLS (during HELLO) must leave nothing running behind it.</summary>
[Collection(ProcessWideCountersCollection.Name)]
public sealed class ConnectFailureTests : IDisposable
{
    private const int Attempts = 20;
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task HelloCutOff_EveryFailedAttemptLeavesNoKeepAliveTimer()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        await using var proxy = FaultProxy.Start(server.Port, captureUpstream: true);
        var address = new ServerAddress("127.0.0.1", proxy.Port);
        var trust = ServerTrust.ExactKey(server.Fingerprint);
        // A reconnect resumes the last successful connection's TLS session (security.md, "TLS session resumption"),
        // and its ClientHello, which carries the session ticket, is longer than a first one. A failed attempt may
        // leave no session behind, so each attempt follows a successful connection: it then always offers a ticket
        // and sends the same bytes as the second connection here, the first to resume.
        for (var i = 0; i < 2; i++)
        {
            await using (await ParleyConnection.ConnectAsync(address, trust))
            {
            }
        }

        // Let exactly the client's TLS handshake through (ClientHello, then its encrypted Finished), then cut: the
        // HELLO that follows never reaches the server, and the attempt fails after TLS has succeeded.
        var cut = new Toxics { LimitBytes = HandshakeLength(proxy.UpstreamCaptures[1]) };
        var before = Timer.ActiveCount;
        for (var i = 0; i < Attempts; i++)
        {
            proxy.Set(ToxicDirection.Upstream, Toxics.None);
            await using (await ParleyConnection.ConnectAsync(address, trust))
            {
            }

            proxy.Set(ToxicDirection.Upstream, cut);
            await Assert.ThrowsAsync<IOException>(() => ParleyConnection.ConnectAsync(address, trust));
        }

        Assert.True(Timer.ActiveCount - before < Attempts / 2,
            $"{Timer.ActiveCount - before} more timers active after {Attempts} failed connection attempts");
    }

    /// <summary>The bytes of the client's side of a TLS 1.3 handshake: every record up to the first encrypted one.</summary>
    private static long HandshakeLength(byte[] capture)
    {
        var offset = 0;
        while (true)
        {
            var type = capture[offset];
            offset += 5 + ((capture[offset + 3] << 8) | capture[offset + 4]);
            if (type == 0x17)
            {
                return offset;
            }
        }
    }

    public void Dispose() => _dir.Dispose();
}
