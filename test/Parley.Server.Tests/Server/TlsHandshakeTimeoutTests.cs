using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Parley.Security;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage.Sqlite;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 2: a TCP connection that never starts TLS is closed at the handshake deadline, not kept.</summary>
public sealed class TlsHandshakeTimeoutTests
{
    [Trait("Security", "2")]
    [Fact]
    public async Task Connection_SendsNothingAfterTcpConnect_ClosedAtTheHandshakeDeadline()
    {
        using var directory = new TempDirectory();
        var store = SqliteChatStore.Open(new SqliteStoreOptions(directory.Combine("parley.db")));
        using var certificate = ServerCertificate.LoadOrCreate(directory.Path);
        var deadline = TimeSpan.FromSeconds(2);
        var server = new ParleyServer(new ServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), HandshakeTimeout = deadline },
            store, certificate, hasher: new PasswordHasher(TestServer.CheapHash));
        try
        {
            await server.StartAsync();
            using var client = new TcpClient();
            await client.ConnectAsync(server.LocalEndPoint);
            var clock = Stopwatch.StartNew();

            var read = await client.GetStream().ReadAsync(new byte[16]).AsTask().WaitAsync(Events.Timeout);

            Assert.Equal(0, read); // closed by the server, nothing sent
            Assert.True(clock.Elapsed >= deadline * 0.9, $"closed after {clock.Elapsed}, before the {deadline} deadline");
        }
        finally
        {
            await server.DisposeAsync();
            await store.DisposeAsync();
        }
    }
}
