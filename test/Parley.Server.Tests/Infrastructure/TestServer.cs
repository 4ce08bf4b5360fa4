using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Security;
using Parley.Storage;
using Parley.Storage.Sqlite;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// A whole server for one test: a SQLite store on a temp file, cheap password hashing, no TLS. Clients connect over
/// in-memory pipes through <see cref="ParleyServer.RunConnectionAsync"/>, each from an address the test chooses.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    /// <summary>A password every helper uses unless told otherwise (long enough for registration).</summary>
    public const string Password = "correct horse battery";

    public const string DefaultAddress = "10.0.0.1";

    /// <summary>Argon2id parameters that cost about a millisecond.</summary>
    public static readonly PasswordHashOptions CheapHash = new() { MemoryKiB = 1024, Iterations = 1 };

    private readonly TempDirectory _directory;
    private readonly Lock _lock = new();
    private readonly List<ParleyConnection> _clients = [];
    private readonly List<Task> _runs = [];
    private readonly ServerOptions _options;
    private readonly LoginThrottle? _throttle;
    private readonly StoreLimits _limits;

    private TestServer(ServerOptions options, LoginThrottle? throttle, StoreLimits limits)
    {
        _directory = new TempDirectory();
        _options = options;
        _throttle = throttle;
        _limits = limits;
        (Store, Server) = Open();
    }

    public SqliteChatStore Store { get; private set; }

    public ParleyServer Server { get; private set; }

    public string DatabasePath => _directory.Combine("parley.db");

    /// <summary>The server's blob folder (uploaded files).</summary>
    public string FilesPath => _directory.Combine("files");

    public static async Task<TestServer> StartAsync(ServerOptions? options = null, LoginThrottle? throttle = null, StoreLimits? limits = null)
    {
        var server = new TestServer(options ?? new ServerOptions(), throttle, limits ?? new StoreLimits());
        await server.Server.EnsureBuiltInAccountsAsync();
        return server;
    }

    /// <summary>
    /// Stops the server as an operator would (every connection is told and closed), closes the store, and starts a
    /// new server on the same database file.
    /// </summary>
    public async Task RestartAsync()
    {
        await Server.DisposeAsync();
        await Store.DisposeAsync();
        (Store, Server) = Open();
        await Server.EnsureBuiltInAccountsAsync();
    }

    /// <summary>Waits until the server has finished with every connection opened so far (closed them and cleaned up).</summary>
    public async Task WaitForServerConnectionsAsync()
    {
        Task[] runs;
        lock (_lock)
        {
            runs = [.. _runs];
        }

        await Task.WhenAll(runs).WaitAsync(Events.Timeout);
    }

    /// <summary>Opens a connection from <paramref name="address"/> and runs HELLO/WELCOME on it.</summary>
    public async Task<ParleyConnection> ConnectAsync(string address = DefaultAddress, ushort maxVersion = ProtocolVersion.Max) =>
        (await ConnectWithRunAsync(address, maxVersion)).Connection;

    /// <summary>Like <see cref="ConnectAsync"/>, with the server's task for the connection (it ends once the server is done with it).</summary>
    private async Task<(ParleyConnection Connection, Task Run)> ConnectWithRunAsync(string address, ushort maxVersion = ProtocolVersion.Max)
    {
        var (client, server) = DuplexPipeStream.CreatePair();
        var run = Server.RunConnectionAsync(server, address);
        var connection = await ParleyConnection.OverStreamAsync(client, maxVersion: maxVersion).WaitAsync(Events.Timeout);
        lock (_lock)
        {
            _runs.Add(run);
            _clients.Add(connection);
        }

        return (connection, run);
    }

    /// <summary>
    /// Opens a connection and logs in with HELLO, RESUME and (with <paramref name="syncAfter"/>) SYNC in one write
    /// (<see cref="ParleyConnection.ResumeOverStreamAsync"/>); <paramref name="wrap"/> can watch the client's stream.
    /// </summary>
    public async Task<(ParleyConnection Connection, AuthOkFrame Auth)> ResumePipelinedAsync(string user, byte[] token, string device,
        ulong? syncAfter, Func<Stream, Stream>? wrap = null)
    {
        var (client, server) = DuplexPipeStream.CreatePair();
        var run = Server.RunConnectionAsync(server, DefaultAddress);
        lock (_lock)
        {
            _runs.Add(run);
        }

        var (connection, auth) = await ParleyConnection.ResumeOverStreamAsync(wrap is null ? client : wrap(client), user, token, device, syncAfter)
            .WaitAsync(Events.Timeout);
        lock (_lock)
        {
            _clients.Add(connection);
        }

        return (connection, auth);
    }

    /// <summary>Connects and registers <paramref name="user"/>.</summary>
    public async Task<(ParleyConnection Connection, AuthOkFrame Auth)> RegisterAsync(string user, string device = "phone",
        string password = Password, string address = DefaultAddress, ushort maxVersion = ProtocolVersion.Max)
    {
        var connection = await ConnectAsync(address, maxVersion);
        var auth = await connection.RegisterAsync(user, password, device).WaitAsync(Events.Timeout);
        return (connection, auth);
    }

    /// <summary>Connects and logs in as <paramref name="user"/>.</summary>
    public async Task<(ParleyConnection Connection, AuthOkFrame Auth)> LoginAsync(string user, string device = "phone",
        string password = Password, string address = DefaultAddress)
    {
        var connection = await ConnectAsync(address);
        var auth = await connection.LoginAsync(user, password, device).WaitAsync(Events.Timeout);
        return (connection, auth);
    }

    /// <summary>Registers an account and closes the connection: the user exists and is offline.</summary>
    public async Task CreateOfflineUserAsync(string user, string device = "phone")
    {
        var (connection, run) = await ConnectWithRunAsync(DefaultAddress);
        await connection.RegisterAsync(user, Password, device).WaitAsync(Events.Timeout);
        await connection.DisposeAsync();
        // Offline means the server has removed the session too: a WATCH sent before that would see the user online
        // (PresenceTests failed once in 21 runs of the suite that way).
        await run.WaitAsync(Events.Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        List<ParleyConnection> clients;
        lock (_lock)
        {
            clients = [.. _clients];
        }

        foreach (var client in clients)
        {
            try
            {
                await client.DisposeAsync();
            }
            catch (ObjectDisposedException)
            {
                // the test closed it already
            }
        }

        await Server.DisposeAsync();
        await Store.DisposeAsync();
        _directory.Dispose();
    }

    private (SqliteChatStore Store, ParleyServer Server) Open()
    {
        var store = SqliteChatStore.Open(new SqliteStoreOptions(DatabasePath) { Limits = _limits });
        // Every test server can take files, in its own folder that survives RestartAsync like the database.
        var options = _options.FilesPath is null ? _options with { FilesPath = FilesPath } : _options;
        var server = new ParleyServer(options, store, certificate: null, hasher: new PasswordHasher(CheapHash), throttle: _throttle);
        return (store, server);
    }
}
