using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Security;
using Parley.Server.Accounts;
using Parley.Server.Connections;
using Parley.Server.Sessions;
using Parley.Storage;

namespace Parley.Server;

/// <summary>
/// The Parley server: a TLS listener in front of the sessions, the router and a store. The caller owns the store and
/// disposes it after <see cref="StopAsync"/>, so that every acknowledged write is on disk before the process exits.
/// </summary>
public sealed class ParleyServer : IAsyncDisposable
{
    private readonly ServerOptions _options;
    private readonly IChatStore _store;
    private readonly X509Certificate2? _certificate;
    private readonly ILogger _logger;
    private readonly ConnectionServices _services;
    private readonly ConcurrentDictionary<long, (ClientConnection Connection, Task Run)> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConnectionLimiter _limiter;
    private readonly SslStreamCertificateContext? _certificateContext;
    private TcpListener? _listener;
    private SeedCompat.SeedCompatListener? _seedCompat;
    private Task _acceptLoop = Task.CompletedTask;
    private readonly ITimer? _loadLog;

    /// <param name="options">Settings.</param>
    /// <param name="store">The durable state; owned by the caller.</param>
    /// <param name="certificate">The server's TLS certificate; null only for in-memory tests through <see cref="RunConnectionAsync"/>.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="hasher">Password hashing; tests pass cheaper parameters.</param>
    /// <param name="throttle">Login throttling.</param>
    /// <param name="directory">
    /// Where the P2P directory keeps its entries; owned by the caller. Null: in this server's memory (one node). A
    /// cluster passes a store shared by every node (NatsChatStore.OpenDirectoryAsync), so a device registered through
    /// one node is found and kept alive through any.
    /// </param>
    /// <param name="blobStorage">
    /// Where verified file blobs and their records live; null keeps them in <see cref="ServerOptions.FilesPath"/> (the
    /// default). Cluster mode passes NATS, so that any node serves any file. Owned by the caller, like the store.
    /// Uploads in progress always stay in <see cref="ServerOptions.FilesPath"/>.
    /// </param>
    public ParleyServer(ServerOptions options, IChatStore store, X509Certificate2? certificate, ILoggerFactory? loggerFactory = null,
        PasswordHasher? hasher = null, LoginThrottle? throttle = null, IPeerDirectoryStore? directory = null, IBlobStorage? blobStorage = null)
    {
        _options = options;
        _store = store;
        _certificate = certificate;
        // Built once: it holds the certificate chain that every handshake would otherwise rebuild.
        _certificateContext = certificate is null ? null : SslStreamCertificateContext.Create(certificate, additionalCertificates: null);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Parley.Server");
        Metrics = new ServerMetrics();
        Hasher = hasher ?? new PasswordHasher(new PasswordHashOptions());
        Throttle = throttle ?? new LoginThrottle(new LoginThrottleOptions(), options.Time);
        var presence = store as IClusterPresence;
        var registry = new SessionRegistry(options, Metrics, presence);
        if (presence is not null)
        {
            presence.RemoteChanged = registry.OnRemotePresence;
            presence.RemoteClose = registry.OnRemoteClose;
        }

        var authenticator = new Authenticator(store, Hasher, Throttle, options, Metrics);
        _limiter = new ConnectionLimiter(options);
        var blobs = options.FilesPath is null
            ? null
            : new Files.BlobStore(options.FilesPath, blobStorage ?? new Files.FolderBlobStorage(options.FilesPath), options);
        PeerDirectory = new P2P.PeerDirectory(options, Metrics, _logger, directory);
        Metrics.DirectoryCount = () => PeerDirectory.Count;
        _services = new ConnectionServices(options, store, registry, authenticator, Metrics, _limiter, _logger, PeerDirectory, blobs);
        _loadLog = options.LoadLogInterval > TimeSpan.Zero
            ? options.Time.CreateTimer(_ => LogLoad(), null, options.LoadLogInterval, options.LoadLogInterval)
            : null;
        store.Committed = registry.OnCommitted;
        store.Delivered = registry.OnDelivered;
    }

    public ServerMetrics Metrics { get; }

    /// <summary>The P2P directory (tests look at it; clients reach it with DIRECTORY_REGISTER, HEARTBEAT, LOOKUP).</summary>
    internal P2P.PeerDirectory PeerDirectory { get; }

    public PasswordHasher Hasher { get; }

    public LoginThrottle Throttle { get; }

    /// <summary>Where the server listens, with the real port when port 0 was asked for.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_listener?.LocalEndpoint ?? throw new InvalidOperationException("not started"));

    /// <summary>Where the listener for the note's old client listens (docs/seed-compat.md); null when it is off.</summary>
    public IPEndPoint? SeedCompatEndPoint => _seedCompat?.LocalEndPoint;

    /// <summary>SHA-256 of the certificate's public key, as clients pin it.</summary>
    public string? Fingerprint => _certificate is null ? null : KeyFingerprint.Of(_certificate);

    /// <summary>Creates the built-in accounts, binds the socket and starts accepting.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await EnsureBuiltInAccountsAsync(cancellationToken).ConfigureAwait(false);
        if (_certificate is null)
        {
            throw new InvalidOperationException("a TLS certificate is needed to listen on a socket");
        }

        _listener = new TcpListener(_options.Listen);
        _listener.Start(backlog: 1024);
        Log.Listening(_logger, _listener.LocalEndpoint);
        _acceptLoop = AcceptLoopAsync();
        if (_options.SeedCompatEndpoint is { } seedEndPoint)
        {
            _seedCompat = new SeedCompat.SeedCompatListener(_services, seedEndPoint);
            _seedCompat.Start();
        }
    }

    /// <summary>Creates the built-in accounts (done by <see cref="StartAsync"/>; in-memory tests call it directly).</summary>
    public Task EnsureBuiltInAccountsAsync(CancellationToken cancellationToken = default) =>
        _store.CreateUserAsync(BuiltInAccounts.Echo, BuiltInAccounts.LockedPasswordHash, cancellationToken);

    /// <summary>
    /// Serves one already-established connection (no TLS of its own): used for in-memory pipe tests and by
    /// transports that terminate TLS themselves. Completes when the connection closes.
    /// </summary>
    public Task RunConnectionAsync(Stream stream, string remoteAddress)
    {
        if (_limiter.TryOpen(remoteAddress) is { } refusal)
        {
            Log.ConnectionRefused(_logger, remoteAddress, refusal);
            return stream.DisposeAsync().AsTask();
        }

        var connection = new ClientConnection(_services, stream, remoteAddress);
        Metrics.ConnectionOpened();
        var run = RunTrackedAsync(connection);
        _connections[connection.Id] = (connection, run);
        return run;
    }

    /// <summary>
    /// Phased shutdown: stop accepting; tell every client the server is going away and let their queued frames
    /// flush; after <see cref="ServerOptions.ShutdownGrace"/> close what is left. Writes already handed to the store
    /// complete; the caller then disposes the store.
    /// </summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        await _acceptLoop.ConfigureAwait(false);
        var guests = _seedCompat?.StopAsync() ?? Task.CompletedTask;
        Log.Stopping(_logger, _connections.Count);
        foreach (var (connection, _) in _connections.Values)
        {
            connection.Abort(Protocol.ErrorCode.ServerShuttingDown, "the server is shutting down");
        }

        try
        {
            await Task.WhenAll(_connections.Values.Select(c => c.Run)).WaitAsync(_options.ShutdownGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // the connections' own deadlines close the rest
        }

        await guests.ConfigureAwait(false);

        Log.Stopped(_logger);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (_loadLog is not null)
        {
            await _loadLog.DisposeAsync().ConfigureAwait(false);
        }

        PeerDirectory.Dispose();
        Metrics.Dispose();
        _stopping.Dispose();
    }

    /// <summary>The load line: how many connections the server holds, for operators and the P2P tests.</summary>
    private void LogLoad() => Log.Load(_logger, Metrics.Connections, Metrics.ConnectionsAccepted, Metrics.Sessions, Metrics.DirectoryEntries, Metrics.MessagesStored);

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptSocketAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            socket.NoDelay = true;
            _ = HandleSocketAsync(socket);
        }
    }

    private async Task HandleSocketAsync(Socket socket)
    {
        var address = (socket.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
        if (_limiter.TryOpen(address) is { } refusal)
        {
            Log.ConnectionRefused(_logger, address, refusal);
            socket.Dispose();
            return;
        }

        Metrics.ConnectionOpened();
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            deadline.CancelAfter(_options.HandshakeTimeout);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = _certificateContext,
                ClientCertificateRequired = false,
                AllowRenegotiation = false,
                EnabledSslProtocols = SslProtocols.None, // the OS default: TLS 1.2 and 1.3 (security.md 2)
            }, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException or OperationCanceledException or SocketException)
        {
            Log.TlsFailed(_logger, 0, address, exception.GetType().Name);
            await tls.DisposeAsync().ConfigureAwait(false);
            Metrics.ConnectionClosed();
            _limiter.Closed(address, wasAuthenticated: false);
            return;
        }

        if (_options.ReleaseIdleTlsBuffers)
        {
            TlsIdleBuffers.TryEnable(tls);
        }

        var connection = new ClientConnection(_services, tls, address);
        var run = RunTrackedAsync(connection);
        _connections[connection.Id] = (connection, run);
        await run.ConfigureAwait(false);
    }

    private async Task RunTrackedAsync(ClientConnection connection)
    {
        await Task.Yield();
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection.Id, out _);
            Metrics.ConnectionClosed();
        }
    }
}
