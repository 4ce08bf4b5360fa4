using System.Net;

namespace Parley.Client.P2P;

/// <summary>Settings of a device in P2P mode (docs/p2p.md, "Settings"). Every limit of the direct path is here.</summary>
public sealed record PeerOptions
{
    /// <summary>Where to accept direct links; null for a device that only dials out (`parley send --p2p`). Port 0 picks one.</summary>
    public IPEndPoint? Listen { get; init; } = new(IPAddress.Any, 0);

    /// <summary>
    /// The endpoint put in the directory, HOST:PORT. Null: the listening port with host 0.0.0.0, which the server
    /// replaces with the address it sees this device connect from.
    /// </summary>
    public string? Advertise { get; init; }

    /// <summary>Heartbeat interval; null uses the one the server asks for in DIRECTORY_REGISTERED (30 s by default).</summary>
    public TimeSpan? HeartbeatInterval { get; init; }

    /// <summary>A direct message not acknowledged within this time goes to the server with the same id (security.md 24: 5 s).</summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for TCP connect to a peer.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for TLS plus PEER_HELLO/PEER_HELLO_ACK on a new link (either side).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>After a failed direct attempt, messages to that user go straight to the server for this long.</summary>
    public TimeSpan RetryDirectAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A direct link with no traffic for this long is closed (links are reused while in use).</summary>
    public TimeSpan LinkIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long the connection to the server stays open after its last use (fallback sends, lookups, catching up),
    /// so a burst reuses one connection; then it is closed: no idle connection to the server.
    /// </summary>
    public TimeSpan ServerLinger { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Most direct links accepted at once; more are closed at once.</summary>
    public int MaxInboundLinks { get; init; } = 64;

    /// <summary>Largest frame on a direct link (as on the server: 1 MiB), checked before allocation.</summary>
    public int MaxFrameLength { get; init; } = 1024 * 1024;

    /// <summary>Largest first frame (PEER_HELLO) on an accepted link, as the server's pre-login limit.</summary>
    public int MaxHelloFrameLength { get; init; } = 4 * 1024;

    /// <summary>
    /// Frames per second a peer may send on one link, sustained, after <see cref="RateLimitBurst"/>; faster frames are
    /// delayed. Higher than the server's 20/s: one link carries one peer's messages, and a direct chat may be a burst
    /// of pasted lines. 0 turns the limit off.
    /// </summary>
    public int RateLimitFramesPerSecond { get; init; } = 200;

    /// <summary>Frames a peer may send at once before the rate applies.</summary>
    public int RateLimitBurst { get; init; } = 500;

    /// <summary>
    /// Frames in a row that had to wait for the rate before the link counts as flooded and is closed. Frames that pass
    /// without waiting in the middle of a flood do not end the run; a full bucket (the peer paused) does.
    /// </summary>
    public int RateLimitMaxDelayedFrames { get; init; } = 1000;

    /// <summary>Where files received over direct links are saved (null: HOME/downloads).</summary>
    public string? DownloadsFolder { get; init; }

    /// <summary>Largest file accepted over a direct link (as the server's default, 1 GiB); a larger declared size is refused before any byte is written.</summary>
    public long MaxFileBytes { get; init; } = 1L << 30;

    /// <summary>Longest wait for a peer's answer to UPLOAD_START and for UPLOAD_DONE after the last chunk.</summary>
    public TimeSpan FileAnswerTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Message ids remembered (per device, on disk) so that a message is shown once whichever path brings it.</summary>
    public int MaxRememberedIds { get; init; } = 100_000;
}
