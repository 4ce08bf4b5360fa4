using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Parley.Storage.Nats.Internal;

/// <summary>
/// The streams and buckets Parley needs, by name. Startup creates what is missing and checks what exists, so a
/// misconfigured cluster is reported at start rather than as odd failures later.
/// </summary>
internal sealed class Topology(string ns, int replicas, TimeSpan duplicateWindow)
{
    public string LogStream { get; } = ns.ToUpperInvariant().Replace('-', '_') + "_LOG";

    public string LogSubjectPrefix { get; } = ns + ".log.";

    public string LiveSubjectPrefix { get; } = ns + ".live.";

    public string ReceiptSubjectPrefix { get; } = ns + ".receipt.";

    public string PresenceSubject { get; } = ns + ".presence";

    public string Accounts { get; } = ns + "_accounts";

    public string Tokens { get; } = ns + "_tokens";

    public string Cursors { get; } = ns + "_cursors";

    public string Submits { get; } = ns + "_submits";

    /// <summary>The P2P directory: created only by a node that serves it (<see cref="DirectoryConfig"/>), not in <see cref="Buckets"/>.</summary>
    public string Directory { get; } = ns + "_directory";

    /// <summary>The KV bucket of file records (f.&lt;id&gt;) and per-sender quota ledgers (q.&lt;hex user&gt;).</summary>
    public string Files { get; } = ns + "_files";

    /// <summary>The Object Store of verified file blobs, one object per file id; its stream is OBJ_&lt;name&gt;.</summary>
    public string Blobs { get; } = ns + "_blobs";

    public int Replicas => replicas;

    public string LogSubject(string owner) => LogSubjectPrefix + Keys.Hex(owner);

    public string OwnerOf(string subject) => Keys.FromHex(subject[LogSubjectPrefix.Length..]);

    public IEnumerable<string> Buckets => [Accounts, Tokens, Cursors, Submits];

    /// <summary>
    /// The per-user log: one stream, one subject per user, no consumers. File storage, replicated; AllowDirect off so
    /// that every read is answered by the stream leader, which has everything that was acknowledged (a replica may
    /// lag, and a reader that missed an acknowledged entry would deliver out of order).
    /// </summary>
    public StreamConfig LogConfig() => new(LogStream, [LogSubjectPrefix + "*"])
    {
        Storage = StreamConfigStorage.File,
        Retention = StreamConfigRetention.Limits,
        NumReplicas = replicas,
        DuplicateWindow = duplicateWindow,
        Discard = StreamConfigDiscard.Old,
        AllowDirect = false,
        MaxMsgSize = 1024 * 1024,
    };

    /// <summary>
    /// A key-value bucket, created as its stream so that AllowDirect can be off (the NATS.Net KV API would turn it
    /// on): gets then go to the leader, and a read right after a write on another node sees it. The layout is the
    /// standard KV one, so the KV API and the `nats kv` tool work on it.
    /// </summary>
    public StreamConfig BucketConfig(string bucket) => new("KV_" + bucket, [$"$KV.{bucket}.>"])
    {
        Storage = StreamConfigStorage.File,
        Retention = StreamConfigRetention.Limits,
        NumReplicas = replicas,
        MaxMsgsPerSubject = 1,
        Discard = StreamConfigDiscard.New,
        DenyDelete = true,
        AllowRollupHdrs = true,
        AllowDirect = false,
        DuplicateWindow = TimeSpan.FromMinutes(2),
        MaxMsgSize = 64 * 1024,
    };

    /// <summary>
    /// The P2P directory bucket: a KV bucket whose MaxAge is the entry lifetime (heartbeat interval × missed
    /// heartbeats), so that NATS itself drops an entry no node has refreshed, whichever node registered it and even
    /// when every node that saw it is gone. A heartbeat rewrites the key, which restarts its age. Deletes are allowed:
    /// logout removes the entry's message itself rather than leaving a delete marker, so the bucket's message count
    /// is the number of entries. The duplicate window may not exceed MaxAge (NATS refuses it).
    /// </summary>
    public StreamConfig DirectoryConfig(TimeSpan entryLifetime)
    {
        var config = BucketConfig(Directory);
        config.MaxAge = entryLifetime;
        config.DenyDelete = false;
        config.DuplicateWindow = entryLifetime < config.DuplicateWindow ? entryLifetime : config.DuplicateWindow;
        return config;
    }

    /// <summary>
    /// The file records: a bucket like the others, but with MaxAge set to the file retention (so NATS itself drops
    /// records of expired files: a record is written last when its file is fetched or completed, never before it was
    /// created, so MaxAge never removes one early), deletes allowed (a refused or swept upload is forgotten), and
    /// room for a quota ledger of many files.
    /// </summary>
    public StreamConfig FilesConfig(TimeSpan retention)
    {
        var config = BucketConfig(Files);
        config.MaxAge = retention;
        config.DenyDelete = false;
        config.MaxMsgSize = 1024 * 1024;
        return config;
    }

    /// <summary>
    /// Creates the stream, or checks that the existing one is usable (subjects and replicas as expected; with
    /// <paramref name="directoryMaxAge"/>, the P2P directory's entry lifetime too; the file buckets check their
    /// retention themselves, with their own message).
    /// </summary>
    public static async Task EnsureStreamAsync(INatsJSContext js, StreamConfig wanted, CancellationToken cancellationToken, bool directoryMaxAge = false)
    {
        try
        {
            await js.CreateStreamAsync(wanted, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (NatsJSApiException exception) when (exception.Error.ErrCode == 10058)
        {
            // stream name already in use: check it below
        }
        catch (NatsJSApiException exception)
        {
            throw new NatsStoreException(
                $"NATS refused to create stream {wanted.Name} with {wanted.NumReplicas} replica(s): {exception.Error.Description} " +
                $"(code {exception.Error.ErrCode}). " +
                (wanted.NumReplicas > 1 ? "A replicated stream needs a NATS cluster with at least that many JetStream servers; use --nats-replicas 1 for a single server. " : string.Empty) +
                "Check that the JetStream limits (max_file_store) leave room.", exception);
        }

        var existing = (await js.GetStreamAsync(wanted.Name!, cancellationToken: cancellationToken).ConfigureAwait(false)).Info.Config;
        var subjects = string.Join(",", existing.Subjects ?? []);
        var expected = string.Join(",", wanted.Subjects ?? []);
        if (subjects != expected)
        {
            throw new NatsStoreException(
                $"NATS stream {wanted.Name} exists with subjects [{subjects}], but Parley needs [{expected}]. " +
                "Another application uses this name: pick another --nats-namespace, or delete the stream.");
        }

        if (existing.NumReplicas != wanted.NumReplicas)
        {
            throw new NatsStoreException(
                $"NATS stream {wanted.Name} has {existing.NumReplicas} replica(s), but this node asks for {wanted.NumReplicas}. " +
                "Every node must use the same --nats-replicas; change the stream with `nats stream edit` or fix the setting.");
        }

        if (directoryMaxAge && existing.MaxAge != wanted.MaxAge)
        {
            throw new NatsStoreException(
                $"NATS stream {wanted.Name} keeps messages for {existing.MaxAge.TotalSeconds:0.###} s, but this node asks for {wanted.MaxAge.TotalSeconds:0.###} s. " +
                "(The P2P directory bucket keeps entries for --directory-heartbeat-interval × --directory-missed-heartbeats, which every node must set alike.) " +
                $"Fix the setting, or change the stream with `nats stream edit {wanted.Name} --max-age {wanted.MaxAge.TotalSeconds:0.###}s`; the directory holds soft state only, so deleting its bucket is safe too.");
        }

        if (existing.AllowDirect)
        {
            throw new NatsStoreException(
                $"NATS stream {wanted.Name} allows direct gets, so replicas may answer reads with stale data. " +
                "Parley creates it without; it was created by something else (for example the KV API): delete it or pick another --nats-namespace.");
        }
    }
}
