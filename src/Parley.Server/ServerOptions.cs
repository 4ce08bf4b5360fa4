using System.Net;
using Parley.Protocol;

namespace Parley.Server;

/// <summary>
/// Every setting of the server, with the defaults of docs/architecture.md ("Limits and defaults"). Each can be set
/// from the command line (`parley serve --help`) or the environment (PARLEY_ prefix).
/// </summary>
public sealed record ServerOptions
{
    /// <summary>Where to listen. Port 0 picks a free port (tests); the chosen one is in <see cref="ParleyServer.LocalEndPoint"/>.</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Loopback, 7878);

    /// <summary>Name sent in WELCOME.</summary>
    public string ServerName { get; init; } = "parley";

    public ProtocolLimits Limits { get; init; } = ProtocolLimits.Default;

    /// <summary>A connection must finish TLS within this time (security.md 2).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether OpenSSL frees each connection's TLS record buffers while they are empty (<see cref="Parley.Security.TlsIdleBuffers"/>):
    /// W3 measured 37.5 → 23.6 KiB of server memory per idle connection (with smaller changes), for a buffer allocation
    /// per TLS read and write that has data, which cost no CPU measurable in W1.
    /// </summary>
    public bool ReleaseIdleTlsBuffers { get; init; } = true;

    /// <summary>A connection must log in within this time of connecting (security.md 9).</summary>
    public TimeSpan LoginTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A logged-in connection that sends nothing (not even PING) for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>Most connections the server holds at once (stay under the process's open-files limit).</summary>
    public int MaxConnections { get; init; } = 20_000;

    /// <summary>Most connections from one address.</summary>
    public int MaxConnectionsPerAddress { get; init; } = 1_000;

    /// <summary>Most connections from one address that have not logged in yet (security.md 9).</summary>
    public int MaxUnauthenticatedPerAddress { get; init; } = 8;

    /// <summary>Most devices of one user online at once (ejabberd, Prosody: 10).</summary>
    public int MaxDevicesPerUser { get; init; } = 10;

    /// <summary>
    /// Most users one session may follow with WATCH (protocol §5.6). Bounds the server's memory per session and the
    /// PRESENCE burst one WATCH can cause; a buddy list of a thousand covers people, not bots.
    /// </summary>
    public int MaxWatchedUsers { get; init; } = 1000;

    /// <summary>Messages a connection may have submitted and not yet had acknowledged; further SENDs wait (back-pressure).</summary>
    public int MaxInFlightSendsPerConnection { get; init; } = 256;

    /// <summary>Deliveries queued to a connection's socket before the session waits for the client to read.</summary>
    public int MaxQueuedDeliveriesPerConnection { get; init; } = 1000;

    /// <summary>A client that does not drain its socket for this long is a slow consumer and is disconnected (nothing lost: it stays in the log).</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Frames a logged-in connection may send per second, sustained (security.md 10; ACK and PONG are not counted:
    /// they answer the server's own traffic). 0 turns the limit off.
    /// </summary>
    public int RateLimitFramesPerSecond { get; init; } = 20;

    /// <summary>Frames a connection may send at once before the rate applies.</summary>
    public int RateLimitBurst { get; init; } = 50;

    /// <summary>Message bytes (frame lengths) a connection may send per second, sustained. 0 turns it off.</summary>
    public int RateLimitBytesPerSecond { get; init; } = 64 * 1024;

    /// <summary>
    /// Frames in a row that had to wait for the rate limit before the connection counts as flooding and is closed
    /// with RateLimited. Excess below this is only delayed.
    /// </summary>
    public int RateLimitMaxDelayedFrames { get; init; } = 100;

    /// <summary>How long an unused resume token stays valid.</summary>
    public TimeSpan ResumeTokenLifetime { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Whether anyone may create an account with REGISTER.</summary>
    public bool AllowRegistration { get; init; } = true;

    /// <summary>Shortest password accepted at registration.</summary>
    public int MinPasswordLength { get; init; } = 8;

    /// <summary>How long shutdown waits for connections to say goodbye before closing them hard.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Folder of uploaded files (blobs under generated ids, never wire names). Null turns file transfer off: file
    /// frames are then refused with ProtocolError. `parley serve` uses DATA/files. When the server is given another
    /// <see cref="Storage.IBlobStorage"/> (NATS in cluster mode) only uploads in progress (.part files) are kept here.
    /// </summary>
    public string? FilesPath { get; init; }

    /// <summary>Largest file a user may upload (security.md 29); a larger declared size is refused before any byte is written.</summary>
    public long MaxFileBytes { get; init; } = 1L << 30;

    /// <summary>Bytes of files one user may have stored and not yet fetched by their recipients (uploads in progress count).</summary>
    public long FileQuotaBytesPerUser { get; init; } = 5L << 30;

    /// <summary>How long an uploaded file is kept (fetched or not); then it is deleted and the offer answers UnknownFile.</summary>
    public TimeSpan FileRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>FILE_CHUNK frames queued per connection and not yet written to the socket: bounds a download's memory.</summary>
    public int MaxQueuedFileChunksPerConnection { get; init; } = 8;

    /// <summary>
    /// Where the listener for the design note's old client listens (docs/seed-compat.md); null, the default, turns it
    /// off. Its users are guests: no password, no TLS, names no account owns, shown to others as "~name".
    /// </summary>
    public IPEndPoint? SeedCompatEndpoint { get; init; }

    /// <summary>Longest frame of the note's format accepted from a guest (its base64 text of <see cref="ProtocolLimits.MaxTextBytes"/> fits); a longer one is skipped with a notice.</summary>
    public int SeedCompatMaxFrameBytes { get; init; } = 96 * 1024;

    /// <summary>Largest file, either way, between a guest and a Parley user: the old client sends and writes text files whole, in memory.</summary>
    public int SeedCompatMaxFileBytes { get; init; } = 1 << 20;

    /// <summary>
    /// Longest frame sent to a guest. The old client reads with recv(1024) and cannot reassemble, so each frame must be
    /// well under 1024 bytes: at 480 two frames that the kernel joins still fit one read. Longer texts are cut.
    /// </summary>
    public int SeedCompatMaxOutgoingFrameBytes { get; init; } = 480;

    /// <summary>Pause after each frame sent to a guest, so that the old client's reads rarely see more than one.</summary>
    public TimeSpan SeedCompatWritePacing { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How long the listener waits for more bytes of a guest's name when they came without a '|' (the old client sends
    /// its name alone, then waits for its user to type).
    /// </summary>
    public TimeSpan SeedCompatNameSettle { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How often a device in P2P mode must send HEARTBEAT to stay in the directory (architecture.md: 30 s, as
    /// Syncthing's announce interval order of magnitude). Sent to the device in DIRECTORY_REGISTERED.
    /// </summary>
    public TimeSpan DirectoryHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Heartbeats a directory entry may miss before it is forgotten: 3, so 90 s by default (security.md 25).</summary>
    public int DirectoryMissedHeartbeats { get; init; } = 3;

    /// <summary>Directory entries one user may have (each device and its one-shot companion count once).</summary>
    public int MaxDirectoryEntriesPerUser { get; init; } = 20;

    /// <summary>
    /// How often the server logs its load line (open connections, sessions, directory entries, messages stored), so an
    /// operator sees the connection count stay near zero while peers chat directly. Zero turns the line off.
    /// </summary>
    public TimeSpan LoadLogInterval { get; init; } = TimeSpan.FromSeconds(60);

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
