using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Parley.Protocol.Frames;

namespace Parley.Server.P2P;

/// <summary>
/// The P2P directory (docs/p2p.md): (user, device) → endpoint and device-key fingerprint, for devices in P2P mode.
/// Entries are added only by a logged-in session for its own (user, device) (the caller checks), kept alive by
/// heartbeats that carry a per-entry secret, and forgotten after <see cref="ServerOptions.DirectoryMissedHeartbeats"/>
/// missed intervals: a lookup never returns an entry past its deadline, and a sweep removes them for good.
/// Kept in memory only: after a restart every device's next heartbeat gets UnknownDevice and registers again, so
/// a restart costs one interval of lookups, and the store holds nothing that is stale by construction.
/// </summary>
internal sealed class PeerDirectory : IDisposable
{
    private readonly ServerOptions _options;
    private readonly ServerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string User, string Device), DirectoryEntry> _entries = [];
    private readonly ITimer _sweep;

    public PeerDirectory(ServerOptions options, ServerMetrics metrics, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _sweep = options.Time.CreateTimer(_ => Sweep(), null, options.DirectoryHeartbeatInterval, options.DirectoryHeartbeatInterval);
    }

    /// <summary>How long an entry lives without a heartbeat.</summary>
    public TimeSpan Timeout => _options.DirectoryHeartbeatInterval * _options.DirectoryMissedHeartbeats;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>
    /// Adds or replaces the entry of (user, device) and returns the heartbeat secret for it. The caller has checked
    /// that the session is this user and device. False when the user already has the most entries allowed.
    /// </summary>
    public bool TryRegister(string user, string device, string endpoint, byte[] fingerprint, out byte[] secret)
    {
        secret = RandomNumberGenerator.GetBytes(DirectoryRegisteredFrame.SecretLength);
        var entry = new DirectoryEntry(user, device, endpoint, fingerprint, SHA256.HashData(secret), _options.Time.GetUtcNow());
        lock (_lock)
        {
            if (!_entries.ContainsKey((user, device)) && _entries.Keys.Count(k => k.User == user) >= _options.MaxDirectoryEntriesPerUser)
            {
                return false;
            }

            _entries[(user, device)] = entry;
        }

        Log.DirectoryRegistered(_logger, user, device, endpoint.Length == 0 ? "(dials out only)" : endpoint);
        return true;
    }

    /// <summary>A heartbeat from (user, device) with <paramref name="secret"/>: compared in fixed time with the entry's.</summary>
    public HeartbeatResult Heartbeat(string user, string device, byte[] secret)
    {
        var now = _options.Time.GetUtcNow();
        var hash = SHA256.HashData(secret);
        lock (_lock)
        {
            if (!_entries.TryGetValue((user, device), out var entry) || IsExpired(entry, now))
            {
                return HeartbeatResult.UnknownDevice;
            }

            if (!CryptographicOperations.FixedTimeEquals(hash, entry.SecretHash))
            {
                return HeartbeatResult.WrongSecret;
            }

            _entries[(user, device)] = entry with { LastSeen = now };
        }

        _metrics.HeartbeatReceived();
        return HeartbeatResult.Alive;
    }

    /// <summary>The live entries of <paramref name="user"/>, most recently heard from first.</summary>
    public IReadOnlyList<PeerEntry> Lookup(string user)
    {
        var now = _options.Time.GetUtcNow();
        lock (_lock)
        {
            return _entries.Values
                .Where(e => e.User == user && !IsExpired(e, now))
                .OrderByDescending(e => e.LastSeen)
                .Take(PeersFrame.MaxEntries)
                .Select(e => new PeerEntry(e.Device, e.Endpoint, e.Fingerprint))
                .ToList();
        }
    }

    /// <summary>Removes the entry of (user, device), if any (logout, password change).</summary>
    public void Remove(string user, string? device)
    {
        lock (_lock)
        {
            foreach (var key in _entries.Keys.Where(k => k.User == user && (device is null || k.Device == device)).ToList())
            {
                _entries.Remove(key);
            }
        }
    }

    public void Dispose() => _sweep.Dispose();

    /// <summary>Removes expired entries (lookups already skip them; this frees them and logs why a device went away).</summary>
    internal void Sweep()
    {
        var now = _options.Time.GetUtcNow();
        List<DirectoryEntry> expired;
        lock (_lock)
        {
            expired = _entries.Values.Where(e => IsExpired(e, now)).ToList();
            foreach (var entry in expired)
            {
                _entries.Remove((entry.User, entry.Device));
            }
        }

        foreach (var entry in expired)
        {
            Log.DirectoryExpired(_logger, entry.User, entry.Device, _options.DirectoryMissedHeartbeats);
        }
    }

    private bool IsExpired(DirectoryEntry entry, DateTimeOffset now) => now - entry.LastSeen >= Timeout;
}
