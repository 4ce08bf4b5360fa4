using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Parley.Protocol.Frames;
using Parley.Storage;

namespace Parley.Server.P2P;

/// <summary>
/// The P2P directory (docs/p2p.md): (user, device) → endpoint and device-key fingerprint, for devices in P2P mode.
/// Entries are added only by a logged-in session for its own (user, device) (the caller checks), kept alive by
/// heartbeats that carry a per-entry secret, and forgotten after <see cref="ServerOptions.DirectoryMissedHeartbeats"/>
/// missed intervals: a lookup never returns an entry past its deadline, and a sweep each interval removes them for good.
/// The rules live here; the entries live in an <see cref="IPeerDirectoryStore"/>: in memory on one server, or in a
/// NATS KV bucket shared by every node of a cluster, so that any node answers for any device.
/// </summary>
internal sealed class PeerDirectory : IDisposable
{
    private readonly ServerOptions _options;
    private readonly ServerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IPeerDirectoryStore _store;
    private readonly ITimer _sweep;
    private int _sweeping;

    public PeerDirectory(ServerOptions options, ServerMetrics metrics, ILogger logger, IPeerDirectoryStore? store = null)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _store = store ?? new MemoryPeerDirectoryStore();
        // The first sweep at once: a shared store learns its count then, rather than reporting 0 for an interval.
        _sweep = options.Time.CreateTimer(_ => _ = SweepAsync(), null, TimeSpan.Zero, options.DirectoryHeartbeatInterval);
    }

    /// <summary>How long an entry lives without a heartbeat.</summary>
    public TimeSpan Timeout => _options.DirectoryHeartbeatInterval * _options.DirectoryMissedHeartbeats;

    /// <summary>Entries held (cluster mode: in the whole cluster, as of the last sweep; see <see cref="IPeerDirectoryStore.Count"/>).</summary>
    public int Count => _store.Count;

    /// <summary>
    /// Adds or replaces the entry of (user, device) and returns the heartbeat secret for it, or null when the user
    /// already has the most entries allowed. The caller has checked that the session is this user and device.
    /// </summary>
    public async Task<byte[]?> TryRegisterAsync(string user, string device, string endpoint, byte[] fingerprint, CancellationToken cancellationToken)
    {
        var secret = RandomNumberGenerator.GetBytes(DirectoryRegisteredFrame.SecretLength);
        var entry = new DirectoryEntry(user, device, endpoint, fingerprint, SHA256.HashData(secret), _options.Time.GetUtcNow());
        if (!await _store.TryPutAsync(entry, _options.MaxDirectoryEntriesPerUser, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        Log.DirectoryRegistered(_logger, user, device, endpoint.Length == 0 ? "(dials out only)" : endpoint);
        return secret;
    }

    /// <summary>
    /// A heartbeat from (user, device) with <paramref name="secret"/>: compared in fixed time with the entry's, then
    /// the entry is replaced with a new last-seen time if nobody changed it meanwhile (a concurrent heartbeat through
    /// another node, or a new registration with a new secret); otherwise it is read and checked again.
    /// </summary>
    public async Task<HeartbeatResult> HeartbeatAsync(string user, string device, byte[] secret, CancellationToken cancellationToken)
    {
        var hash = SHA256.HashData(secret);
        while (true)
        {
            var now = _options.Time.GetUtcNow();
            var stored = await _store.GetAsync(user, device, cancellationToken).ConfigureAwait(false);
            if (stored is null || IsExpired(stored.Entry, now))
            {
                return HeartbeatResult.UnknownDevice;
            }

            if (!CryptographicOperations.FixedTimeEquals(hash, stored.Entry.SecretHash))
            {
                return HeartbeatResult.WrongSecret;
            }

            if (await _store.TryReplaceAsync(stored.Entry with { LastSeen = now }, stored.Revision, cancellationToken).ConfigureAwait(false))
            {
                _metrics.HeartbeatReceived();
                return HeartbeatResult.Alive;
            }
        }
    }

    /// <summary>The live entries of <paramref name="user"/>, most recently heard from first, at most what one PEERS frame holds.</summary>
    public async Task<IReadOnlyList<PeerEntry>> LookupAsync(string user, CancellationToken cancellationToken)
    {
        var entries = await _store.ListAsync(user, cancellationToken).ConfigureAwait(false);
        var now = _options.Time.GetUtcNow();
        return entries
            .Where(e => !IsExpired(e, now))
            .OrderByDescending(e => e.LastSeen)
            .Take(PeersFrame.MaxEntries)
            .Select(e => new PeerEntry(e.Device, e.Endpoint, e.Fingerprint))
            .ToList();
    }

    /// <summary>Removes the entry of (user, device), or all the user's entries when <paramref name="device"/> is null (logout, password change).</summary>
    public Task RemoveAsync(string user, string? device, CancellationToken cancellationToken) => _store.RemoveAsync(user, device, cancellationToken);

    public void Dispose() => _sweep.Dispose();

    /// <summary>
    /// Removes expired entries (lookups already skip them; this frees them and logs why a device went away). One
    /// sweep at a time: a slow store must not pile sweeps up. A failure is logged and the next interval tries again.
    /// </summary>
    internal async Task SweepAsync()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            var expired = await _store.SweepAsync(_options.Time.GetUtcNow(), Timeout).ConfigureAwait(false);
            foreach (var entry in expired)
            {
                Log.DirectoryExpired(_logger, entry.User, entry.Device, _options.DirectoryMissedHeartbeats);
            }
        }
        catch (Exception exception)
        {
            Log.DirectorySweepFailed(_logger, exception);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    private bool IsExpired(DirectoryEntry entry, DateTimeOffset now) => now - entry.LastSeen >= Timeout;
}
