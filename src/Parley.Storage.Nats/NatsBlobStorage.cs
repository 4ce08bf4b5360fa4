using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Client.ObjectStore;
using NATS.Client.ObjectStore.Models;
using Parley.Storage.Nats.Internal;

namespace Parley.Storage.Nats;

/// <summary>
/// File blobs in cluster mode (docs/topology.md, "Files"): every node reads and writes the same NATS, so a file
/// uploaded through one node is downloaded through any other and outlives the node that received it.
/// <list type="bullet">
/// <item>Verified blobs: one object per file id in the JetStream Object Store <c>NS_blobs</c> (chunked by NATS,
/// replicated like every stream). Uploads in progress never go there: the server keeps them in a node-local .part
/// file and hands over only bytes whose SHA-256 matched.</item>
/// <item>Records: <c>f.&lt;id&gt;</c> in the KV bucket <c>NS_files</c>, changed only with revision checks, because
/// several nodes write them.</item>
/// <item>Quota: <c>q.&lt;hex sender&gt;</c> in the same bucket, the sender's unfetched files by id, reserved with a
/// compare-and-set before the record is written, so two nodes cannot both let an upload slip under the quota.</item>
/// <item>Retention: MaxAge on the bucket and on the object store's stream, so NATS drops expired files by itself
/// even when no node runs; records older than the retention are treated as gone at once.</item>
/// </list>
/// Shares the connection of its <see cref="NatsChatStore"/>; dispose the store, not this.
/// </summary>
public sealed class NatsBlobStorage : IBlobStorage
{
    /// <summary>Chunk size of stored objects: NATS's default, well under the stream's message size limit.</summary>
    public const int ChunkBytes = 128 * 1024;

    /// <summary>How long a reader waits for an object a replica has not seen yet (direct gets may be answered by a lagging replica).</summary>
    private static readonly TimeSpan ReplicaLagWait = TimeSpan.FromSeconds(5);

    private readonly NatsJSContext _js;
    private readonly INatsKVStore _records;
    private readonly INatsObjStore _objects;
    private readonly string _objectStream;
    private readonly TimeSpan _retention;
    private readonly TimeProvider _time;

    private NatsBlobStorage(NatsJSContext js, INatsKVStore records, INatsObjStore objects, string objectStream, TimeSpan retention, TimeProvider time)
    {
        _js = js;
        _records = records;
        _objects = objects;
        _objectStream = objectStream;
        _retention = retention;
        _time = time;
    }

    /// <summary>
    /// Creates or checks the records bucket and the object store of <paramref name="store"/>'s namespace. Throws
    /// <see cref="NatsStoreException"/> saying what is wrong (no room, replicas or retention different from the
    /// other nodes', a name taken by something else).
    /// </summary>
    /// <param name="store">The node's open store, whose connection and namespace are used.</param>
    /// <param name="retention">How long a file is kept (--file-retention-days); every node of a cluster must agree.</param>
    /// <param name="time">The server's clock.</param>
    /// <param name="cancellationToken">Stops the checks.</param>
    public static async Task<NatsBlobStorage> OpenAsync(NatsChatStore store, TimeSpan retention, TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        var js = store.JetStream;
        var topology = store.Topology;
        var filesConfig = topology.FilesConfig(retention);
        await Topology.EnsureStreamAsync(js, filesConfig, cancellationToken).ConfigureAwait(false);
        await CheckMaxAgeAsync(js, filesConfig.Name!, retention, cancellationToken).ConfigureAwait(false);
        var records = await new NatsKVContext(js).GetStoreAsync(topology.Files, cancellationToken).ConfigureAwait(false);

        var objectContext = new NatsObjContext(js);
        var objectStream = "OBJ_" + topology.Blobs;
        INatsObjStore objects;
        try
        {
            objects = await objectContext.CreateObjectStoreAsync(new NatsObjConfig(topology.Blobs)
            {
                Description = "Parley file blobs (docs/topology.md)",
                Storage = NatsObjStorageType.File,
                NumberOfReplicas = topology.Replicas,
                MaxAge = retention,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException exception) when (exception.Error.ErrCode == 10058)
        {
            // exists with another configuration: say which part differs below
            objects = await objectContext.GetObjectStoreAsync(topology.Blobs, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException exception)
        {
            throw new NatsStoreException(
                $"NATS refused to create the object store {topology.Blobs} (stream {objectStream}) with {topology.Replicas} replica(s): " +
                $"{exception.Error.Description} (code {exception.Error.ErrCode}). " +
                (topology.Replicas > 1 ? "A replicated store needs a NATS cluster with at least that many JetStream servers. " : string.Empty) +
                "Files take room: check that the JetStream limits (max_file_store) leave enough for the files waiting to be fetched.", exception);
        }

        var existing = (await js.GetStreamAsync(objectStream, cancellationToken: cancellationToken).ConfigureAwait(false)).Info.Config;
        if (existing.NumReplicas != topology.Replicas)
        {
            throw new NatsStoreException(
                $"NATS object store {topology.Blobs} has {existing.NumReplicas} replica(s), but this node asks for {topology.Replicas}. " +
                "Every node must use the same --nats-replicas; change the stream with `nats stream edit` or fix the setting.");
        }

        await CheckMaxAgeAsync(js, objectStream, retention, cancellationToken).ConfigureAwait(false);
        return new NatsBlobStorage(js, records, objects, objectStream, retention, time ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public async Task<BlobRecord?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var entry = await GetRecordAsync(RecordKey(id), cancellationToken).ConfigureAwait(false);
        return entry is { Value: { } record } && !IsExpired(record) ? record : null;
    }

    /// <inheritdoc />
    public async Task<(BlobRecord? Record, long UsedBytes)> CreateAsync(BlobRecord record, long quotaBytes, CancellationToken cancellationToken)
    {
        var used = await ReserveAsync(record, quotaBytes, cancellationToken).ConfigureAwait(false);
        if (used is { } refused)
        {
            return (null, refused);
        }

        var created = await _records.TryCreateAsync(RecordKey(record.Id), Serialize(record), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (created.Success)
        {
            return (record, 0);
        }

        // Another node created this id first (the same client on two connections, or an id clash): its record decides,
        // even one past the retention that NATS has not dropped yet (the caller compares it with the upload).
        var existing = (await GetRecordAsync(RecordKey(record.Id), cancellationToken).ConfigureAwait(false))?.Value;
        if (existing is null || existing.Sender != record.Sender)
        {
            await ReleaseAsync(record.Sender, record.Id, cancellationToken).ConfigureAwait(false);
        }

        return existing is null
            ? throw new IOException($"the record of file {record.Id} could not be created in NATS, nor read back")
            : (existing, 0);
    }

    /// <inheritdoc />
    public async Task StoreAsync(BlobRecord record, string verifiedFile, CancellationToken cancellationToken)
    {
        var file = new FileStream(verifiedFile, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: ChunkBytes, useAsync: true);
        try
        {
            // PutAsync reads and publishes one chunk at a time; an object of the same name (a retried completion) is replaced.
            await _objects.PutAsync(new ObjectMetadata { Name = record.Id, Options = new MetaDataOptions { MaxChunkSize = ChunkBytes } },
                file, leaveOpen: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException)
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"file {record.Id} could not be stored in NATS: {exception.Message}", exception);
        }

        // The hash too: an upload that gave it last (UPLOAD_END) created the record without it.
        await ChangeAsync(record, r =>
        {
            r.Complete = true;
            r.Sha256 = record.Sha256;
        }, cancellationToken).ConfigureAwait(false);
        // Only now: a crash before this leaves the .part, and the client's resume completes the upload again.
        File.Delete(verifiedFile);
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenReadAsync(BlobRecord record, long offset, CancellationToken cancellationToken)
    {
        var info = await GetInfoAsync(record.Id, cancellationToken).ConfigureAwait(false);
        if (info is null || info.Size != (ulong)record.Size || info.Nuid is not { } nuid)
        {
            return null;
        }

        return await ObjectChunkStream.OpenAsync(_js, _objectStream, $"$O.{_objects.Bucket}.C.{nuid}", record.Size, offset, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task MarkFetchedAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        await ChangeAsync(record, r => r.Fetched = true, cancellationToken).ConfigureAwait(false);
        await ReleaseAsync(record.Sender, record.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await _objects.DeleteAsync(record.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsObjNotFoundException)
        {
            // never stored (an upload refused before it completed) or already gone
        }

        await _records.PurgeAsync(RecordKey(record.Id), cancellationToken: cancellationToken).ConfigureAwait(false);
        await ReleaseAsync(record.Sender, record.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Nothing to do on the request path: NATS drops expired records and blobs by MaxAge, <see cref="FindAsync"/>
    /// already treats records past the retention as gone, and ledgers drop them at the next reservation. Walking every
    /// record of the cluster on each upload, as the folder does with its cached records, would cost a KV scan.
    /// </summary>
    public Task SweepAsync(long cutoffUnixMilliseconds, CancellationToken cancellationToken) => Task.CompletedTask;

    private static string RecordKey(string id) => "f." + id;

    private static string LedgerKey(string sender) => "q." + Keys.Hex(sender);

    private static byte[] Serialize(BlobRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, JsonContext.Default.BlobRecord);

    private static byte[] SerializeLedger(Dictionary<string, QuotaEntry> ledger) =>
        JsonSerializer.SerializeToUtf8Bytes(ledger, JsonContext.Default.DictionaryStringQuotaEntry);

    private static async Task CheckMaxAgeAsync(NatsJSContext js, string stream, TimeSpan retention, CancellationToken cancellationToken)
    {
        var config = (await js.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false)).Info.Config;
        if (config.MaxAge != retention)
        {
            throw new NatsStoreException(
                $"NATS stream {stream} keeps files for {config.MaxAge.TotalDays:0.###} day(s), but this node's --file-retention-days is " +
                $"{retention.TotalDays:0.###}. Every node of a cluster must use the same retention; fix the setting, or change the stream's " +
                "max age with `nats stream edit` (on every Parley stream of files: the _files bucket and the OBJ_..._blobs store).");
        }
    }

    private bool IsExpired(BlobRecord record) =>
        record.Created < _time.GetUtcNow().ToUnixTimeMilliseconds() - (long)_retention.TotalMilliseconds;

    /// <summary>Object info, waited for a little: right after a put on another node a lagging replica may not have it yet.</summary>
    private async Task<ObjectMetadata?> GetInfoAsync(string id, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + ReplicaLagWait;
        while (true)
        {
            try
            {
                var info = await _objects.GetInfoAsync(id, showDeleted: false, cancellationToken).ConfigureAwait(false);
                if (!info.Deleted)
                {
                    return info;
                }
            }
            catch (NatsObjNotFoundException)
            {
            }

            if (_time.GetUtcNow() > deadline)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adds the file to its sender's ledger if the quota allows; null when it did, else the bytes already used. A
    /// compare-and-set loop: another node's reservation in between makes this one read the ledger again.
    /// </summary>
    private async Task<long?> ReserveAsync(BlobRecord record, long quotaBytes, CancellationToken cancellationToken)
    {
        var key = LedgerKey(record.Sender);
        while (true)
        {
            var entry = await GetLedgerAsync(key, cancellationToken).ConfigureAwait(false);
            var ledger = Live(entry?.Value);
            var used = ledger.Where(pair => pair.Key != record.Id).Sum(pair => pair.Value.Size);
            if (used + record.Size > quotaBytes)
            {
                return used;
            }

            ledger[record.Id] = new QuotaEntry(record.Size, record.Created);
            if (await TryWriteAsync(key, SerializeLedger(ledger), entry?.Revision, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    /// <summary>Takes a file out of its sender's ledger (fetched, refused or deleted): it no longer counts.</summary>
    private async Task ReleaseAsync(string sender, string id, CancellationToken cancellationToken)
    {
        var key = LedgerKey(sender);
        while (true)
        {
            var entry = await GetLedgerAsync(key, cancellationToken).ConfigureAwait(false);
            if (entry?.Value is not { } stored || !stored.ContainsKey(id))
            {
                return;
            }

            var ledger = Live(stored);
            ledger.Remove(id);
            if (await TryWriteAsync(key, SerializeLedger(ledger), entry.Revision, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>The ledger without files past the retention (NATS has dropped them, or soon will).</summary>
    private Dictionary<string, QuotaEntry> Live(Dictionary<string, QuotaEntry>? ledger)
    {
        var cutoff = _time.GetUtcNow().ToUnixTimeMilliseconds() - (long)_retention.TotalMilliseconds;
        return ledger is null
            ? new Dictionary<string, QuotaEntry>(StringComparer.Ordinal)
            : ledger.Where(pair => pair.Value.Created >= cutoff).ToDictionary(StringComparer.Ordinal);
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the stored record with a revision check, retrying on a concurrent write.
    /// A record gone meanwhile (deleted or expired) stays gone.
    /// </summary>
    private async Task ChangeAsync(BlobRecord record, Action<BlobRecord> change, CancellationToken cancellationToken)
    {
        change(record);
        var key = RecordKey(record.Id);
        while (true)
        {
            var entry = await GetRecordAsync(key, cancellationToken).ConfigureAwait(false);
            if (entry is null)
            {
                return;
            }

            change(entry.Value);
            if (await TryWriteAsync(key, Serialize(entry.Value), entry.Revision, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Creates the key (when <paramref name="revision"/> is null) or updates it only if it is still at that revision.</summary>
    private async Task<bool> TryWriteAsync(string key, byte[] value, ulong? revision, CancellationToken cancellationToken)
    {
        var written = revision is { } expected
            ? await _records.TryUpdateAsync(key, value, expected, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await _records.TryCreateAsync(key, value, cancellationToken: cancellationToken).ConfigureAwait(false);
        return written.Success;
    }

    private async Task<KvValue<BlobRecord>?> GetRecordAsync(string key, CancellationToken cancellationToken) =>
        await GetRawAsync(key, cancellationToken).ConfigureAwait(false) is { } raw &&
        JsonSerializer.Deserialize(raw.Value, JsonContext.Default.BlobRecord) is { } record
            ? new KvValue<BlobRecord>(record, raw.Revision)
            : null;

    private async Task<KvValue<Dictionary<string, QuotaEntry>>?> GetLedgerAsync(string key, CancellationToken cancellationToken) =>
        await GetRawAsync(key, cancellationToken).ConfigureAwait(false) is { } raw
            ? new KvValue<Dictionary<string, QuotaEntry>>(
                JsonSerializer.Deserialize(raw.Value, JsonContext.Default.DictionaryStringQuotaEntry) ?? [], raw.Revision)
            : null;

    private async Task<KvValue<byte[]>?> GetRawAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _records.TryGetEntryAsync<byte[]>(key, cancellationToken: cancellationToken).ConfigureAwait(false);
            return result.Success && result.Value.Operation == NatsKVOperation.Put && result.Value.Value is { } bytes
                ? new KvValue<byte[]>(bytes, result.Value.Revision)
                : null;
        }
        catch (NatsJSApiException exception) when (exception.Error.Code == 404)
        {
            return null;
        }
    }
}
