using System.Net;
using System.Security.Cryptography.X509Certificates;
using Parley.Client;
using Parley.Security;
using Parley.Server;
using Parley.Storage;
using Parley.Storage.Nats;
using Parley.Storage.Sqlite;

namespace Parley.LoadTest;

/// <summary>
/// One round's server: a fresh temp directory holding the TLS key (ServerCertificate.LoadOrCreate, as `parley
/// serve` makes it) and the SQLite file, the real store, and a ParleyServer listening on 127.0.0.1 with an OS-chosen
/// port. Clients connect through real TCP and TLS with the key pinned, so every message pays what it pays in
/// production except the network distance.
/// </summary>
internal sealed class LoadServer : IAsyncDisposable
{
    private readonly X509Certificate2 _certificate;
    private readonly IChatStore _store;
    private readonly ParleyServer _server;

    /// <summary>Cluster mode (--nats): a second node on its own store connection, where the recipient connects.</summary>
    private (IChatStore Store, ParleyServer Server)? _second;

    private LoadServer(string directory, X509Certificate2 certificate, IChatStore store, ParleyServer server)
    {
        Directory = directory;
        _certificate = certificate;
        _store = store;
        _server = server;
    }

    /// <summary>Where the certificate and the database file are; deleted on dispose.</summary>
    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "parley.db");

    public static async Task<LoadServer> StartAsync(LoadTestOptions options, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "parley-load-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var certificate = ServerCertificate.LoadOrCreate(directory);
        var limits = new StoreLimits { MaxUnacknowledgedPerUser = options.MaxUnacknowledged };
        var ns = "bench" + Guid.NewGuid().ToString("N")[..10];
        async Task<IChatStore> OpenStoreAsync() => options.Nats is null
            ? SqliteChatStore.Open(new SqliteStoreOptions(Path.Combine(directory, "parley.db")) { Limits = limits })
            : await NatsChatStore.OpenAsync(new NatsStoreOptions { Urls = options.Nats.Split(','), Namespace = ns, Limits = limits }, cancellationToken);
        var store = await OpenStoreAsync();
        var result = new LoadServer(directory, certificate, store, await StartNodeAsync(store, certificate, cancellationToken));
        if (options.Nats is not null)
        {
            var second = await OpenStoreAsync();
            result._second = (second, await StartNodeAsync(second, certificate, cancellationToken));
        }

        return result;
    }

    private static async Task<ParleyServer> StartNodeAsync(IChatStore store, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        // Production Argon2id parameters: only the two registrations and one login pay them, not the messages.
        var server = new ParleyServer(new ServerOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            // The load test measures the server's own cost per message, so the per-connection rate limit (20 frames/s
            // by default, a limit for people) is lifted; everything else, TLS and synchronous=FULL included, stays.
            RateLimitFramesPerSecond = 0,
            RateLimitBytesPerSecond = 0,
        }, store, certificate,
            loggerFactory: null, hasher: new PasswordHasher(PasswordHashOptions.Default));
        await server.StartAsync(cancellationToken);
        return server;
    }

    /// <summary>Where the recipient connects: the second node in cluster mode (so messages cross nodes), else the only one.</summary>
    public Task<ParleyConnection> ConnectRecipientAsync(CancellationToken cancellationToken) =>
        _second is { } second
            ? ParleyConnection.ConnectAsync(new ServerAddress("127.0.0.1", second.Server.LocalEndPoint.Port), ServerTrust.ExactKey(second.Server.Fingerprint!),
                cancellationToken: cancellationToken)
            : ConnectAsync(cancellationToken);

    /// <summary>A new connection, TLS-pinned to this server's key, past HELLO/WELCOME.</summary>
    /// <summary>The address clients connect to, and the key they pin.</summary>
    public (ServerAddress Address, ServerTrust Trust) Endpoint =>
        (new ServerAddress("127.0.0.1", _server.LocalEndPoint.Port), ServerTrust.ExactKey(_server.Fingerprint!));

    public Task<ParleyConnection> ConnectAsync(CancellationToken cancellationToken) =>
        ParleyConnection.ConnectAsync(new ServerAddress("127.0.0.1", _server.LocalEndPoint.Port), ServerTrust.ExactKey(_server.Fingerprint!),
            cancellationToken: cancellationToken);

    /// <summary>Stops the server, then closes the store (so every acknowledged write is flushed), then deletes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.DisposeAsync();
        }
        catch (IOException exception)
        {
            // ParleyServer.StopAsync can throw when a client closed its socket during shutdown: the connection's
            // final PipeWriter.CompleteAsync flushes into the dead socket (reported in bench/README.md). The
            // measurement is finished by then; the store must still be closed.
            Console.Error.WriteLine($"note: server shutdown threw {exception.GetType().Name}: {exception.Message}");
        }

        await _store.DisposeAsync();
        if (_second is { } second)
        {
            await second.Server.DisposeAsync();
            await second.Store.DisposeAsync();
        }

        _certificate.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is not worth failing a finished measurement for.
        }
    }
}
