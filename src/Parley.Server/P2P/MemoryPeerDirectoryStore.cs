using Parley.Storage;

namespace Parley.Server.P2P;

/// <summary>
/// The directory of one server (SQLite mode, the default): a dictionary under a lock. Kept in memory only: after a
/// restart every device's next heartbeat gets UnknownDevice and registers again, so a restart costs one interval of
/// lookups, and no stale entry can outlive the process. Every call completes synchronously, so tests
/// on a fake clock see a sweep's effect as soon as they advance it.
/// </summary>
internal sealed class MemoryPeerDirectoryStore : IPeerDirectoryStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string User, string Device), StoredDirectoryEntry> _entries = [];
    private ulong _revision;

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

    public Task<bool> TryPutAsync(DirectoryEntry entry, int maxPerUser, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_entries.ContainsKey((entry.User, entry.Device)) && _entries.Keys.Count(k => k.User == entry.User) >= maxPerUser)
            {
                return Task.FromResult(false);
            }

            _entries[(entry.User, entry.Device)] = new StoredDirectoryEntry(entry, ++_revision);
            return Task.FromResult(true);
        }
    }

    public Task<StoredDirectoryEntry?> GetAsync(string user, string device, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_entries.GetValueOrDefault((user, device)));
        }
    }

    public Task<bool> TryReplaceAsync(DirectoryEntry entry, ulong revision, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue((entry.User, entry.Device), out var current) || current.Revision != revision)
            {
                return Task.FromResult(false);
            }

            _entries[(entry.User, entry.Device)] = new StoredDirectoryEntry(entry, ++_revision);
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<DirectoryEntry>> ListAsync(string user, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<DirectoryEntry>>(_entries.Values.Select(s => s.Entry).Where(e => e.User == user).ToList());
        }
    }

    public Task RemoveAsync(string user, string? device, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var key in _entries.Keys.Where(k => k.User == user && (device is null || k.Device == device)).ToList())
            {
                _entries.Remove(key);
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DirectoryEntry>> SweepAsync(DateTimeOffset now, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var expired = _entries.Values.Select(s => s.Entry).Where(e => now - e.LastSeen >= lifetime).ToList();
            foreach (var entry in expired)
            {
                _entries.Remove((entry.User, entry.Device));
            }

            return Task.FromResult<IReadOnlyList<DirectoryEntry>>(expired);
        }
    }
}
