namespace Parley.Storage;

/// <summary>
/// Where the P2P directory keeps its entries. The rules (own device only, secrets compared in fixed time, expiry,
/// order and size of a lookup) are the server's <c>PeerDirectory</c>'s; a store only keeps entries, one per
/// (user, device), and makes replacing one a compare-and-set. Two implementations: in memory, per node (one server,
/// SQLite mode), and on a NATS JetStream KV bucket (cluster mode), so that a device registered through one node is
/// found and kept alive through any node. All methods are safe to call concurrently.
/// </summary>
public interface IPeerDirectoryStore
{
    /// <summary>
    /// Entries held, for the <c>parley.directory.entries</c> metric and the load line. In memory it is exact; a store
    /// shared by a cluster counts the whole cluster as of its last <see cref="SweepAsync"/>, because counting means a
    /// round trip and the metric is read synchronously.
    /// </summary>
    int Count { get; }

    /// <summary>
    /// Adds <paramref name="entry"/>, or replaces the entry of its (user, device) whatever its revision (a new
    /// registration wins over everything before it). False, and nothing stored, when the user has no entry for this
    /// device and already has <paramref name="maxPerUser"/> entries.
    /// </summary>
    Task<bool> TryPutAsync(DirectoryEntry entry, int maxPerUser, CancellationToken cancellationToken = default);

    /// <summary>The entry of (user, device) with its revision, or null when there is none.</summary>
    Task<StoredDirectoryEntry?> GetAsync(string user, string device, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the entry of (<paramref name="entry"/>.User, .Device) only if it is still at <paramref name="revision"/>.
    /// False when it changed or is gone since it was read.
    /// </summary>
    Task<bool> TryReplaceAsync(DirectoryEntry entry, ulong revision, CancellationToken cancellationToken = default);

    /// <summary>Every entry of <paramref name="user"/>, in no particular order, including any past its deadline that the store has not dropped yet.</summary>
    Task<IReadOnlyList<DirectoryEntry>> ListAsync(string user, CancellationToken cancellationToken = default);

    /// <summary>Removes the entry of (user, device), or every entry of the user when <paramref name="device"/> is null.</summary>
    Task RemoveAsync(string user, string? device, CancellationToken cancellationToken = default);

    /// <summary>
    /// Called once per heartbeat interval. Removes the entries last seen <paramref name="lifetime"/> or longer before
    /// <paramref name="now"/> and returns them, so that the server can log why each device went away. A store whose
    /// storage drops old entries by itself (NATS: the bucket's MaxAge) returns none, and refreshes <see cref="Count"/>.
    /// </summary>
    Task<IReadOnlyList<DirectoryEntry>> SweepAsync(DateTimeOffset now, TimeSpan lifetime, CancellationToken cancellationToken = default);
}
