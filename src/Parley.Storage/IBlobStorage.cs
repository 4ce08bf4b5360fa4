namespace Parley.Storage;

/// <summary>
/// Where verified file blobs and their <see cref="BlobRecord"/>s live (docs/architecture.md, "Files"). The server keeps
/// uploads in progress in a node-local .part file and hands the file over only once its SHA-256 is verified, so an
/// implementation never sees half a file. Two exist: a folder (the default, one node or a folder shared by several)
/// and NATS JetStream (cluster mode: an Object Store for the blobs and a KV bucket for the records), so that the
/// same upload, download and limit code serves both.
/// </summary>
public interface IBlobStorage
{
    /// <summary>The record of <paramref name="id"/> (32 hex digits) as the storage has it now, or null.</summary>
    Task<BlobRecord?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a new, incomplete record unless the sender's unfetched files (every record of that sender not
    /// <see cref="BlobRecord.Fetched"/>, this one included) would pass <paramref name="quotaBytes"/>. The check and
    /// the write are one atomic step for every writer of the storage, so two uploads at once cannot both slip under.
    /// </summary>
    /// <returns>
    /// The stored record (the existing one when another writer created the same id first: the caller compares it), or
    /// null with the bytes already used when the quota refuses it.
    /// </returns>
    Task<(BlobRecord? Record, long UsedBytes)> CreateAsync(BlobRecord record, long quotaBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the verified bytes in <paramref name="verifiedFile"/> (which it may move or delete) as the blob of
    /// <paramref name="record"/>, then marks the record complete. After it returns, every reader of the storage can
    /// open the blob.
    /// </summary>
    Task StoreAsync(BlobRecord record, string verifiedFile, CancellationToken cancellationToken);

    /// <summary>
    /// The blob of a complete record from <paramref name="offset"/> on, streamed (never the whole file in memory),
    /// or null when it is gone (expired or deleted meanwhile).
    /// </summary>
    Task<Stream?> OpenReadAsync(BlobRecord record, long offset, CancellationToken cancellationToken);

    /// <summary>Marks the record fetched, so it no longer counts against its sender's quota.</summary>
    Task MarkFetchedAsync(BlobRecord record, CancellationToken cancellationToken);

    /// <summary>Forgets a record and its blob. Deleting what is already gone is not an error.</summary>
    Task DeleteAsync(BlobRecord record, CancellationToken cancellationToken);

    /// <summary>Deletes every record (and blob) created before <paramref name="cutoffUnixMilliseconds"/>, fetched or not.</summary>
    Task SweepAsync(long cutoffUnixMilliseconds, CancellationToken cancellationToken);
}
