using System.Collections.Concurrent;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Parley.Protocol;
using Parley.Storage.Nats.Internal;

namespace Parley.Storage.Nats;

/// <summary>
/// The cluster store: <see cref="IChatStore"/> on NATS JetStream, shared by every Parley node of a cluster.
/// <list type="bullet">
/// <item>Logs: one stream, subject <c>NS.log.&lt;hex user&gt;</c> per user. A user's sequence numbers are the stream's
/// sequences of that user's messages: strictly increasing, with gaps (protocol §5.4 lets clients expect gaps), and
/// assigned by the stream leader, so no node has to coordinate a per-user counter.</item>
/// <item>An append is two publishes (the sender's copy, then the recipient's), each with a Nats-Msg-Id derived from
/// (sender, id, log), and completes only after both PubAcks: acknowledged means stored by a quorum of the replicas.
/// A retry after a crash between the two publishes re-sends both; the stream drops the copy it has.</item>
/// <item>Dedupe beyond the stream's window: a KV record per (sender, id) with the content digest and sequences,
/// giving the SQLite store's Duplicate / IdReused answers.</item>
/// <item>Accounts, resume tokens and device cursors are KV buckets, changed with revision checks (compare-and-set),
/// never read-modify-write blindly, because several nodes write them at once.</item>
/// <item><see cref="Committed"/> and <see cref="Delivered"/> fire for changes made by any node: the node that wrote
/// calls them at once and announces the change on a core subject, which every other node turns into the same call.
/// Delivery is pull-based in the server (a session reads the log after its last sent entry), so an announcement
/// that arrives late, out of order or not at all costs latency, never an entry.</item>
/// </list>
/// </summary>
public sealed class NatsChatStore : IChatStore, IClusterPresence
{
    private const int MaxReceiptScan = 10_000;

    /// <summary>Entries a log read takes with single leader gets before it switches to a batch (see <see cref="ReadRawAsync"/>).</summary>
    private const int DirectReads = 2;

    /// <summary>How many entries history and receipt scans ask for per read: large, since a read is a batch now.</summary>
    private const int ScanBatch = 1024;
    private static readonly TimeSpan AppendRetryWindow = TimeSpan.FromSeconds(30);
    private readonly NatsStoreOptions _options;
    private readonly NatsConnection _connection;
    private readonly NatsJSContext _js;
    private readonly Topology _topology;
    private readonly LogBatchReader _batches;
    private readonly string _node = Guid.NewGuid().ToString("N");
    private readonly Lock _callbackLock = new();
    private readonly ConcurrentDictionary<string, bool> _knownUsers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closing = new();
    private readonly ConcurrentDictionary<string, SenderPipeline> _pipelines = new(StringComparer.Ordinal);
    private INatsKVStore _accounts = null!;
    private INatsKVStore _tokens = null!;
    private INatsKVStore _cursors = null!;
    private INatsKVStore _submits = null!;
    private Task _listener = Task.CompletedTask;
    private PresenceTracker _presence = null!;

    private NatsChatStore(NatsStoreOptions options, NatsConnection connection, Topology topology)
    {
        _options = options;
        _connection = connection;
        // JetStream requests wait longer than the client's default: a Raft round on a loaded machine or during a leader
        // election can take seconds, and a timed-out publish is retried (idempotently) anyway.
        _js = new NatsJSContext(connection, new NatsJSOpts(connection.Opts, requestTimeout: TimeSpan.FromSeconds(10)));
        _topology = topology;
        _batches = new LogBatchReader(connection, _js.Opts.Prefix, topology.LogStream);
    }

    /// <inheritdoc />
    public Action<IReadOnlyList<LogEntry>>? Committed { get; set; }

    /// <inheritdoc />
    public Action<IReadOnlyList<DeliveryReceipt>>? Delivered { get; set; }

    /// <summary>Replicas in use for every stream and bucket (decided at start when 0 was asked for).</summary>
    public int Replicas => _topology.Replicas;

    /// <summary>The JetStream context of this node's connection, shared with <see cref="NatsBlobStorage"/>.</summary>
    internal NatsJSContext JetStream => _js;

    /// <summary>The names of this namespace's streams and buckets, shared with <see cref="NatsBlobStorage"/>.</summary>
    internal Topology Topology => _topology;

    /// <summary>The NATS server this node is connected to now (for logs).</summary>
    public string ConnectedServer => _connection.ServerInfo is { } info ? $"{info.Name} {info.Host}:{info.Port} (v{info.Version})" : "none";

    /// <summary>
    /// Connects, checks that JetStream is there, creates or checks the streams and buckets, and starts listening for
    /// other nodes' commits. Throws <see cref="NatsStoreException"/> with an explanation when any of it fails.
    /// </summary>
    public static async Task<NatsChatStore> OpenAsync(NatsStoreOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Urls.Count == 0)
        {
            throw new NatsStoreException("no NATS server given: use --nats nats://HOST:PORT[,nats://HOST:PORT...]");
        }

        foreach (var c in options.Namespace)
        {
            if (!(c is >= 'a' and <= 'z' || c is >= '0' and <= '9' || c is '_' or '-'))
            {
                throw new NatsStoreException($"bad NATS namespace '{options.Namespace}': use a-z 0-9 _ -");
            }
        }

        var urls = string.Join(",", options.Urls);
        var connection = new NatsConnection(new NatsOpts
        {
            Url = urls,
            Name = "parley-node",
            ConnectTimeout = options.ConnectTimeout,
            RequestTimeout = TimeSpan.FromSeconds(10),
            CommandTimeout = TimeSpan.FromSeconds(10),
            // Keep trying for ever once connected: a NATS node restart must not end a Parley node.
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            SubPendingChannelCapacity = 100_000,
        });
        try
        {
            try
            {
                await connection.ConnectAsync().AsTask().WaitAsync(options.ConnectTimeout * 2, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is NatsException or TimeoutException or System.Net.Sockets.SocketException)
            {
                throw new NatsStoreException(
                    $"cannot reach NATS at {urls}: {exception.Message}. Is nats-server running there (with -js), and is the address right?", exception);
            }

            if (connection.ServerInfo is { JetStreamAvailable: false } info)
            {
                throw new NatsStoreException(
                    $"NATS server {info.Name} at {info.Host}:{info.Port} has JetStream disabled; Parley keeps its logs in JetStream. " +
                    "Start nats-server with -js (and a store directory, -sd DIR), or `jetstream { store_dir: DIR }` in its config.");
            }

            var js = new NatsJSContext(connection);
            try
            {
                await js.GetAccountInfoAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is NatsJSApiException or NatsNoRespondersException or NatsJSException)
            {
                throw new NatsStoreException(
                    $"JetStream does not answer on NATS at {urls} ({exception.Message}). Enable JetStream for this account (nats-server -js), " +
                    "and in a cluster check that a meta leader was elected (a majority of the JetStream servers must be up).", exception);
            }

            var replicas = options.Replicas > 0 ? options.Replicas : string.IsNullOrEmpty(connection.ServerInfo?.Cluster) ? 1 : 3;
            var topology = new Topology(options.Namespace, replicas, options.DuplicateWindow);
            var store = new NatsChatStore(options, connection, topology);
            await store.EnsureTopologyAsync(cancellationToken).ConfigureAwait(false);
            await store.StartListeningAsync().ConfigureAwait(false);
            return store;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task EnsureTopologyAsync(CancellationToken cancellationToken)
    {
        await Topology.EnsureStreamAsync(_js, _topology.LogConfig(), cancellationToken).ConfigureAwait(false);
        foreach (var bucket in _topology.Buckets)
        {
            await Topology.EnsureStreamAsync(_js, _topology.BucketConfig(bucket), cancellationToken).ConfigureAwait(false);
        }

        var kv = new NatsKVContext(_js);
        _accounts = await kv.GetStoreAsync(_topology.Accounts, cancellationToken).ConfigureAwait(false);
        _tokens = await kv.GetStoreAsync(_topology.Tokens, cancellationToken).ConfigureAwait(false);
        _cursors = await kv.GetStoreAsync(_topology.Cursors, cancellationToken).ConfigureAwait(false);
        _submits = await kv.GetStoreAsync(_topology.Submits, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens the P2P directory of the cluster (bucket NS_directory), creating it or checking the existing one. Its
    /// MaxAge is <paramref name="entryLifetime"/> (heartbeat interval × missed heartbeats), which every node must use
    /// alike: a node with another value is refused with an explanation. The directory shares this store's
    /// connection and lives as long as the store.
    /// </summary>
    public async Task<NatsPeerDirectoryStore> OpenDirectoryAsync(TimeSpan entryLifetime, CancellationToken cancellationToken = default)
    {
        var config = _topology.DirectoryConfig(entryLifetime);
        await Topology.EnsureStreamAsync(_js, config, cancellationToken, directoryMaxAge: true).ConfigureAwait(false);
        var bucket = await new NatsKVContext(_js).GetStoreAsync(_topology.Directory, cancellationToken).ConfigureAwait(false);
        return new NatsPeerDirectoryStore(_js, bucket, config.Name!, _topology.Directory);
    }

    /// <summary>
    /// One subscription for other nodes' commits and receipts. Every node hears every commit: simple, and fine for a
    /// few nodes; interest-based subjects per online user are the next step (docs/topology.md).
    /// </summary>
    private async Task StartListeningAsync()
    {
        var live = await _connection.SubscribeCoreAsync<byte[]>(_topology.LiveSubjectPrefix + ">", cancellationToken: _closing.Token).ConfigureAwait(false);
        var receipts = await _connection.SubscribeCoreAsync<byte[]>(_topology.ReceiptSubjectPrefix + ">", cancellationToken: _closing.Token).ConfigureAwait(false);
        _presence = new PresenceTracker(_connection, _topology.PresenceSubject, _node, _options.Time);
        var presence = await _presence.StartAsync(_closing.Token).ConfigureAwait(false);
        _listener = Task.WhenAll(ListenLiveAsync(live), ListenReceiptsAsync(receipts), presence);
    }

    /// <inheritdoc />
    public Action<string, bool>? RemoteChanged
    {
        get => _presence.Changed;
        set => _presence.Changed = value;
    }

    /// <inheritdoc />
    public void SetLocal(string user, int devices) => _presence.SetLocal(user, devices);

    /// <inheritdoc />
    public void CloseRemote(string user, string? device, string? exceptDevice, ushort code, string reason) =>
        _presence.RequestClose(new CloseBody(user, device, exceptDevice, code, reason));

    /// <inheritdoc />
    public Action<string, string?, string?, ushort, string>? RemoteClose
    {
        get => _presence.Close;
        set => _presence.Close = value;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, int> Remote() => _presence.Remote;

    private async Task ListenLiveAsync(INatsSub<byte[]> subscription)
    {
        try
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync(_closing.Token).ConfigureAwait(false))
            {
                LiveBody? body;
                try
                {
                    body = message.Data is null ? null : JsonSerializer.Deserialize(message.Data, JsonContext.Default.LiveBody);
                }
                catch (JsonException)
                {
                    continue;
                }

                if (body is null || body.Node == _node)
                {
                    continue; // this node told its router when it stored the entry
                }

                RaiseCommitted([ToEntry(body.Owner, body.Seq, body.Entry)]);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task ListenReceiptsAsync(INatsSub<byte[]> subscription)
    {
        try
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync(_closing.Token).ConfigureAwait(false))
            {
                ReceiptBody? body;
                try
                {
                    body = message.Data is null ? null : JsonSerializer.Deserialize(message.Data, JsonContext.Default.ReceiptBody);
                }
                catch (JsonException)
                {
                    continue;
                }

                if (body is null || body.Node == _node)
                {
                    continue;
                }

                RaiseDelivered(body.Receipts.Select(r => new DeliveryReceipt(r.Sender, r.Recipient, r.SenderSequence)).ToList());
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<bool> CreateUserAsync(string user, string passwordHash, CancellationToken cancellationToken = default)
    {
        var created = await _accounts.TryCreateAsync(Keys.Hex(user), passwordHash, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (created.Success)
        {
            _knownUsers[user] = true;
            return true;
        }

        if (created.Error is NatsKVCreateException or NatsKVWrongLastRevisionException)
        {
            return false; // the name is taken (Create fails on an existing key: uniqueness across nodes)
        }

        throw created.Error;
    }

    /// <inheritdoc />
    public async Task<string?> GetPasswordHashAsync(string user, CancellationToken cancellationToken = default)
    {
        var entry = await GetEntryAsync<string>(_accounts, Keys.Hex(user), cancellationToken).ConfigureAwait(false);
        return entry?.Value;
    }

    /// <inheritdoc />
    public async Task SetPasswordHashAsync(string user, string passwordHash, CancellationToken cancellationToken = default)
    {
        var key = Keys.Hex(user);
        while (true)
        {
            var entry = await GetEntryAsync<string>(_accounts, key, cancellationToken).ConfigureAwait(false);
            if (entry is null)
            {
                return; // as SQLite's UPDATE of a missing row: nothing
            }

            var updated = await _accounts.TryUpdateAsync(key, passwordHash, entry.Revision, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (updated.Success)
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    public async Task AddTokenAsync(ResumeTokenRecord token, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new TokenBody(token.User, token.Device, token.Expires.ToUnixTimeMilliseconds()), JsonContext.Default.TokenBody);
        await _tokens.PutAsync(TokenKey(token.Hash), body, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Two key-value writes (take, then put): JetStream has no transaction over two keys. A node failing between them
    /// leaves the device without a token, and its next login asks for the password.
    /// </remarks>
    public async Task<ResumeTokenRecord?> ExchangeTokenAsync(byte[] presentedHash, ResumeTokenRecord replacement, DateTimeOffset now,
        CancellationToken cancellationToken = default)
    {
        var taken = await TakeTokenAsync(presentedHash, cancellationToken).ConfigureAwait(false);
        if (taken is not null && taken.User == replacement.User && taken.Device == replacement.Device && taken.Expires >= now)
        {
            await AddTokenAsync(replacement, cancellationToken).ConfigureAwait(false);
        }

        return taken;
    }

    /// <summary>
    /// Get, then delete only if still at that revision: two nodes racing for one token cannot both win. A token
    /// written before a revocation of its user or device (same bucket, so revisions order them) is refused.
    /// </summary>
    public async Task<ResumeTokenRecord?> TakeTokenAsync(byte[] tokenHash, CancellationToken cancellationToken = default)
    {
        var key = TokenKey(tokenHash);
        var entry = await GetEntryAsync<byte[]>(_tokens, key, cancellationToken).ConfigureAwait(false);
        if (entry?.Value is null)
        {
            return null;
        }

        var deleted = await _tokens.TryDeleteAsync(key, new NatsKVDeleteOpts { Revision = entry.Revision }, cancellationToken).ConfigureAwait(false);
        if (!deleted.Success)
        {
            return null;
        }

        var body = JsonSerializer.Deserialize(entry.Value, JsonContext.Default.TokenBody);
        if (body is null)
        {
            return null;
        }

        foreach (var revocation in new[] { RevokeKey(body.User, null), RevokeKey(body.User, body.Device) })
        {
            var revoked = await GetEntryAsync<byte[]>(_tokens, revocation, cancellationToken).ConfigureAwait(false);
            if (revoked is not null && revoked.Revision > entry.Revision)
            {
                return null;
            }
        }

        return new ResumeTokenRecord(tokenHash, body.User, body.Device, DateTimeOffset.FromUnixTimeMilliseconds(body.Expires));
    }

    /// <summary>
    /// Revocation is a marker, not a scan: tokens are keyed by hash, and every token older (lower revision in the same
    /// bucket) than the user's or device's marker is refused when taken. O(1) whatever the number of tokens.
    /// </summary>
    public async Task RevokeTokensAsync(string user, string? device, CancellationToken cancellationToken = default) =>
        await _tokens.PutAsync(RevokeKey(user, device), _options.Time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Appends, retrying for up to <see cref="AppendRetryWindow"/> when NATS fails for a while (a stream leader
    /// election, a reconnect, a request timeout on a loaded machine). Every step is idempotent — the dedupe record is
    /// checked first, both publishes carry a Nats-Msg-Id, and a copy already stored is looked for before republishing —
    /// so a retry never stores twice what an earlier try stored, and the client sees an error only after the window.
    /// </summary>
    public async Task<AppendResult> AppendAsync(Submission submission, CancellationToken cancellationToken = default)
    {
        // One sender's appends take their turn in the order they were handed in (the server hands a connection's
        // SENDs over in order): their publishes go out in that order without waiting for each other's PubAcks, so a
        // sender's messages reach both logs in order (protocol §5, receipts) and a window of them costs about one
        // round trip, not one per message. Appends of different senders run concurrently.
        using var turn = _pipelines.GetOrAdd(submission.From, static _ => new SenderPipeline()).Enter();
        try
        {
            return await AppendOnceAsync(submission, turn, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or TimeoutException or PipelineFallbackException
            && !cancellationToken.IsCancellationRequested)
        {
            turn.MarkTroubled();
        }

        // The pipelined attempt failed: retry one at a time, behind the sender's previous append, as before pipelining.
        await turn.PreviousDone.WaitAsync(cancellationToken).ConfigureAwait(false);
        var started = _options.Time.GetTimestamp();
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await AppendOnceAsync(submission, null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is NatsException or TimeoutException
                && !cancellationToken.IsCancellationRequested && _options.Time.GetElapsedTime(started) < AppendRetryWindow)
            {
                await Task.Delay(backoff, _options.Time, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    /// <summary>
    /// One attempt. With a <paramref name="turn"/>, the publishes wait for the sender's previous append to have sent its
    /// own (<see cref="PublishInTurnAsync"/>); without one (a retry), they go out one at a time, each awaited.
    /// </summary>
    private async Task<AppendResult> AppendOnceAsync(Submission submission, PipelineTurn? turn, CancellationToken cancellationToken)
    {
        var digest = Convert.ToBase64String(Keys.Digest(submission));
        var submitKey = Keys.Hex(submission.From) + "." + submission.Id;
        var isBot = submission.AutoReply is not null;
        var selfNote = submission.To == submission.From;
        // The three checks are independent reads: asked at once, they cost one round trip instead of three.
        var knownTask = GetSubmitAsync(submitKey, cancellationToken);
        var existsTask = UserExistsAsync(submission.To, cancellationToken);
        var fullTask = isBot ? Task.FromResult(false) : IsQueueFullAsync(submission.To, cancellationToken);
        await Task.WhenAll(knownTask, existsTask, fullTask.ContinueWith(static _ => { }, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)).ConfigureAwait(false);
        var known = await knownTask.ConfigureAwait(false);
        if (known is not null)
        {
            return await AnswerKnownAsync(known, digest, cancellationToken).ConfigureAwait(false);
        }

        if (!await existsTask.ConfigureAwait(false))
        {
            return new AppendResult(AppendStatus.UnknownRecipient, 0, 0);
        }

        if (await fullTask.ConfigureAwait(false))
        {
            return new AppendResult(AppendStatus.QueueFull, 0, 0);
        }

        var now = _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var appended = new List<LogEntry>(2);
        ulong senderSeq, recipientSeq = 0, replySeq = 0;
        if (isBot)
        {
            // A bot keeps no log of its own: the sender's copy and the reply, both in the sender's log.
            turn?.RecipientLogSent(); // nothing for a recipient's log: the next append need not wait for this one there
            var replyId = Keys.ReplyId(submission.Id);
            var copies = await PublishInTurnAsync(submission.From, turn, recipientLog: false,
            [
                (submission.From, submission.Id, Body(submission, now, 0)),
                (submission.From, replyId, new EntryBody(replyId.ToString(), submission.To, submission.From, now, submission.AutoReply!, 0)),
            ], cancellationToken).ConfigureAwait(false);
            appended.AddRange(copies);
            senderSeq = copies[0].Sequence;
            replySeq = copies[1].Sequence;
        }
        else if (selfNote)
        {
            turn?.RecipientLogSent();
            var only = (await PublishInTurnAsync(submission.From, turn, recipientLog: false,
                [(submission.To, submission.Id, Body(submission, now, 0))], cancellationToken).ConfigureAwait(false))[0];
            appended.Add(only);
            senderSeq = recipientSeq = only.Sequence;
        }
        else
        {
            // The sender's copy first: the recipient's copy then carries its sequence, which receipts need.
            var mine = (await PublishInTurnAsync(submission.From, turn, recipientLog: false,
                [(submission.From, submission.Id, Body(submission, now, 0))], cancellationToken).ConfigureAwait(false))[0];
            // A sender's copy that the stream already had means an earlier attempt, whose recipient copy may be stored
            // with its acknowledgement lost (a node or stream leader died). Look for it before publishing again, so a
            // retry outside the stream's duplicate window (or after a leader change) does not store a second copy.
            var theirs = mine.Time != now
                ? await FindAfterAsync(submission.To, mine.Sequence, submission.From, submission.Id, cancellationToken).ConfigureAwait(false)
                : null;
            theirs ??= (await PublishInTurnAsync(submission.From, turn, recipientLog: true,
                [(submission.To, submission.Id, Body(submission, now, mine.Sequence))], cancellationToken).ConfigureAwait(false))[0];
            appended.Add(mine);
            appended.Add(theirs);
            senderSeq = mine.Sequence;
            recipientSeq = theirs.Sequence;
        }

        // A retried publish answered "duplicate" keeps the first copy's time: report that one.
        var time = appended[0].Time;
        var record = new SubmitRecord(digest, senderSeq, recipientSeq, replySeq, time);
        var created = await _submits.TryCreateAsync(submitKey, JsonSerializer.SerializeToUtf8Bytes(record, JsonContext.Default.SubmitRecord),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!created.Success)
        {
            // Another node stored the same (sender, id) at the same moment (a client retrying on two nodes).
            known = await GetSubmitAsync(submitKey, cancellationToken).ConfigureAwait(false);
            if (known is not null)
            {
                return await AnswerKnownAsync(known, digest, cancellationToken).ConfigureAwait(false);
            }

            throw created.Error;
        }

        await AnnounceAsync(appended).ConfigureAwait(false);
        return new AppendResult(AppendStatus.Stored, senderSeq, time);
    }

    /// <summary>
    /// A (sender, id) seen before: same content → the first acknowledgement again, and the entries are announced once
    /// more, in case the node that stored them died before it could (a sleeping session would otherwise wait for the
    /// next message to notice them). Another content → IdReused.
    /// </summary>
    private async Task<AppendResult> AnswerKnownAsync(SubmitRecord known, string digest, CancellationToken cancellationToken)
    {
        if (known.Digest != digest)
        {
            return new AppendResult(AppendStatus.IdReused, 0, 0);
        }

        var entries = new List<LogEntry>(2);
        foreach (var seq in new[] { known.SenderSeq, known.RecipientSeq, known.ReplySeq }.Where(s => s > 0).Distinct())
        {
            if (await GetBySeqAsync(seq, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                entries.Add(entry);
            }
        }

        await AnnounceAsync(entries).ConfigureAwait(false);
        return new AppendResult(AppendStatus.Duplicate, known.SenderSeq, known.Time);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LogEntry>> ReadLogAsync(string owner, ulong after, int max, CancellationToken cancellationToken = default) =>
        (await ReadRawAsync(owner, after, max, cancellationToken).ConfigureAwait(false)).Select(pair => pair.Entry).ToList();

    /// <summary>
    /// The next entries of a log with the sender's sequence each carries. The first <see cref="DirectReads"/> entries
    /// come from leader-answered "next message of this subject from sequence N" gets (a live session usually wants one
    /// or two); the rest in batches from an ephemeral consumer (<see cref="LogBatchReader"/>). The consumer may sit on
    /// a lagging replica, so whenever a batch comes back short, a leader get decides whether the log really ends there:
    /// the result is always what the leader has, in order, as before. When no consumer can be had (a NATS server just
    /// died), the read goes on with leader gets.
    /// </summary>
    private async Task<List<(LogEntry Entry, ulong SenderSeq)>> ReadRawAsync(string owner, ulong after, int max, CancellationToken cancellationToken)
    {
        var subject = _topology.LogSubject(owner);
        var entries = new List<(LogEntry, ulong)>();
        var next = after + 1;
        var direct = 0;
        while (entries.Count < max)
        {
            if (direct < DirectReads)
            {
                var stored = await GetMessageAsync(new StreamMsgGetRequest { Seq = next, NextBySubj = subject }, cancellationToken).ConfigureAwait(false);
                if (stored is null)
                {
                    break;
                }

                entries.Add(Decode(owner, stored.Seq, stored.Data));
                next = stored.Seq + 1;
                direct++;
                continue;
            }

            var wanted = max - entries.Count;
            var batch = await _batches.ReadAsync(subject, next, wanted, cancellationToken).ConfigureAwait(false);
            if (batch is null)
            {
                direct = DirectReads - 1; // no consumer to be had now: go on with leader gets, one at a time
                continue;
            }

            foreach (var message in batch)
            {
                entries.Add(Decode(owner, message.Seq, message.Data));
                next = message.Seq + 1;
            }

            // A full batch goes on with another; a short one is checked with one leader get before more batches.
            direct = batch.Count < wanted ? DirectReads - 1 : DirectReads;
        }

        return entries;
    }

    /// <summary>
    /// JetStream 2.9 has neither "previous by subject" nor consumers with several filters, so history scans the user's
    /// subject forward (batched reads, see <see cref="ReadRawAsync"/>) and keeps the newest <paramref name="max"/> below
    /// <paramref name="before"/>: its cost grows with the log (docs/topology.md, "What is left").
    /// </summary>
    public async Task<IReadOnlyList<LogEntry>> ReadHistoryAsync(string owner, ulong before, int max, string? peer, CancellationToken cancellationToken = default)
    {
        var window = new Queue<LogEntry>();
        if (max <= 0)
        {
            return [];
        }

        var after = 0UL;
        while (true)
        {
            var batch = await ReadRawAsync(owner, after, ScanBatch, cancellationToken).ConfigureAwait(false);
            foreach (var (entry, _) in batch)
            {
                if (before != 0 && entry.Sequence >= before)
                {
                    return [.. window];
                }

                if (peer is null || entry.From == peer || entry.To == peer)
                {
                    window.Enqueue(entry);
                    if (window.Count > max)
                    {
                        window.Dequeue();
                    }
                }

                after = entry.Sequence;
            }

            if (batch.Count < ScanBatch)
            {
                return [.. window];
            }
        }
    }

    /// <inheritdoc />
    public async Task<ulong> GetHeadAsync(string owner, CancellationToken cancellationToken = default)
    {
        var stored = await GetMessageAsync(new StreamMsgGetRequest { LastBySubj = _topology.LogSubject(owner) }, cancellationToken).ConfigureAwait(false);
        return stored?.Seq ?? 0;
    }

    /// <summary>
    /// Moves a device's cursor forward with compare-and-set on the user's cursor record (all devices of a user in one
    /// key, so "the most advanced device" is one read). When the most advanced cursor moves, receipts go out.
    /// </summary>
    public async Task SaveCursorAsync(string user, string device, ulong acknowledged, CancellationToken cancellationToken = default)
    {
        var key = Keys.Hex(user);
        ulong before;
        while (true)
        {
            var entry = await GetEntryAsync<byte[]>(_cursors, key, cancellationToken).ConfigureAwait(false);
            var devices = entry is { Value: not null } && entry.Value is { } bytes
                ? JsonSerializer.Deserialize(bytes, JsonContext.Default.DictionaryStringUInt64) ?? []
                : new Dictionary<string, ulong>(StringComparer.Ordinal);
            if (devices.TryGetValue(device, out var current) && current >= acknowledged)
            {
                return;
            }

            before = devices.Count == 0 ? 0 : devices.Values.Max();
            devices[device] = acknowledged;
            var value = JsonSerializer.SerializeToUtf8Bytes(devices, JsonContext.Default.DictionaryStringUInt64);
            var written = entry is not null
                ? await _cursors.TryUpdateAsync(key, value, entry.Revision, cancellationToken: cancellationToken).ConfigureAwait(false)
                : await _cursors.TryCreateAsync(key, value, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (written.Success)
            {
                break;
            }
        }

        if (acknowledged > before)
        {
            await SendReceiptsAsync(user, before, acknowledged, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<ulong> GetCursorAsync(string user, string device, CancellationToken cancellationToken = default)
    {
        var entry = await GetEntryAsync<byte[]>(_cursors, Keys.Hex(user), cancellationToken).ConfigureAwait(false);
        if (entry?.Value is null)
        {
            return 0;
        }

        var devices = JsonSerializer.Deserialize(entry.Value, JsonContext.Default.DictionaryStringUInt64);
        return devices is not null && devices.TryGetValue(device, out var acked) ? acked : 0;
    }

    /// <summary>Stops listening and closes the connection. Every append already acknowledged is in the stream.</summary>
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        try
        {
            await _listener.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
        _closing.Dispose();
    }

    private async Task SendReceiptsAsync(string user, ulong after, ulong upTo, CancellationToken cancellationToken)
    {
        var newest = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var cursor = after;
        var scanned = 0;
        while (cursor < upTo && scanned < MaxReceiptScan)
        {
            // No more than the sequences up to the cursor can hold (a user's sequences have gaps, never repeats): a read
            // past it would fetch, in a batch, entries the device has not acknowledged.
            var batch = await ReadRawAsync(user, cursor, (int)Math.Min(ScanBatch, upTo - cursor), cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var (entry, senderSeq) in batch)
            {
                if (entry.Sequence > upTo)
                {
                    cursor = upTo;
                    break;
                }

                cursor = entry.Sequence;
                scanned++;
                if (entry.From != user && senderSeq > 0)
                {
                    newest[entry.From] = Math.Max(newest.GetValueOrDefault(entry.From), senderSeq);
                }
            }
        }

        if (newest.Count == 0)
        {
            return;
        }

        var receipts = newest.Select(pair => new DeliveryReceipt(pair.Key, user, pair.Value)).ToList();
        RaiseDelivered(receipts);
        var body = new ReceiptBody(_node, receipts.Select(r => new ReceiptItem(r.Sender, r.Recipient, r.SenderSequence)).ToList());
        await _connection.PublishAsync(_topology.ReceiptSubjectPrefix + Keys.Hex(user),
            JsonSerializer.SerializeToUtf8Bytes(body, JsonContext.Default.ReceiptBody), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A key's live value and revision, or null when it is missing or deleted. On buckets without direct get the
    /// NATS.Net KV API throws on a missing key rather than returning a failed result, hence this wrapper.
    /// </summary>
    internal static async Task<KvValue<T>?> GetEntryAsync<T>(INatsKVStore bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            var result = await bucket.TryGetEntryAsync<T>(key, cancellationToken: cancellationToken).ConfigureAwait(false);
            return result.Success && result.Value.Operation == NatsKVOperation.Put && result.Value.Value is { } value
                ? new KvValue<T>(value, result.Value.Revision)
                : null;
        }
        catch (NatsJSApiException exception) when (exception.Error.Code == 404)
        {
            return null;
        }
    }

    private static string TokenKey(byte[] hash) => "t." + Convert.ToHexStringLower(hash);

    private static string RevokeKey(string user, string? device) =>
        device is null ? "r." + Keys.Hex(user) : "r." + Keys.Hex(user) + "." + Keys.Hex(device);

    private static EntryBody Body(Submission submission, long now, ulong senderSeq) => new(
        submission.Id.ToString(), submission.From, submission.To, now, submission.Text, senderSeq,
        submission.File?.FileId.ToString(), submission.File?.Name, submission.File?.Size ?? 0,
        submission.File is null ? null : Convert.ToBase64String(submission.File.Sha256));

    private static LogEntry ToEntry(string owner, ulong seq, EntryBody body) => new(
        owner, seq, MessageId.Parse(body.Id), body.From, body.To, body.Time, body.Text,
        body.FileId is null ? null : new FileOffer(MessageId.Parse(body.FileId), body.FileName ?? string.Empty, body.FileSize,
            body.FileSha is null ? [] : Convert.FromBase64String(body.FileSha)));

    private static (LogEntry Entry, ulong SenderSeq) Decode(string owner, ulong seq, ReadOnlyMemory<byte> data)
    {
        var body = JsonSerializer.Deserialize(data.Span, JsonContext.Default.EntryBody)
            ?? throw new InvalidDataException($"empty log entry at {seq}");
        return (ToEntry(owner, seq, body), body.SenderSeq);
    }

    /// <summary>
    /// Publishes copies of one append to one log (the sender's or the recipient's) and waits for their PubAcks. With a
    /// <paramref name="turn"/>: first waits until the sender's previous append has sent its publish to the same kind of
    /// log, sends these, lets the next append send, and only then waits for the PubAcks, so one sender's window is in
    /// flight at once and still stored in submission order (one connection keeps publish order; the stream numbers
    /// messages in arrival order). A failure marks the pipeline troubled before the lane is let go, so appends that
    /// have not sent yet fall back behind this one rather than overtake its retry. Without a turn (a retry): one
    /// publish at a time, each awaited.
    /// </summary>
    private async Task<LogEntry[]> PublishInTurnAsync(string sender, PipelineTurn? turn, bool recipientLog,
        (string Owner, MessageId Id, EntryBody Body)[] copies, CancellationToken cancellationToken)
    {
        var entries = new LogEntry[copies.Length];
        if (turn is null)
        {
            for (var i = 0; i < copies.Length; i++)
            {
                entries[i] = await PublishAsync(sender, copies[i].Owner, copies[i].Id, copies[i].Body, cancellationToken).ConfigureAwait(false);
            }

            return entries;
        }

        await (recipientLog ? turn.PreviousRecipientLogSent : turn.PreviousSenderLogSent).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (turn.PipelineTroubled)
        {
            turn.MarkTroubled();
            throw new PipelineFallbackException();
        }

        var futures = new List<NatsJSPublishConcurrentFuture>(copies.Length);
        try
        {
            try
            {
                foreach (var (owner, id, body) in copies)
                {
                    futures.Add(await _js.PublishConcurrentAsync(_topology.LogSubject(owner), JsonSerializer.SerializeToUtf8Bytes(body, JsonContext.Default.EntryBody),
                        opts: new NatsJSPubOpts { MsgId = Keys.MsgId(sender, id, owner) }, cancellationToken: cancellationToken).ConfigureAwait(false));
                }
            }
            catch
            {
                turn.MarkTroubled();
                throw;
            }

            if (recipientLog)
            {
                turn.RecipientLogSent();
            }
            else
            {
                turn.SenderLogSent();
            }

            try
            {
                for (var i = 0; i < copies.Length; i++)
                {
                    var ack = await futures[i].GetResponseAsync(cancellationToken).ConfigureAwait(false);
                    entries[i] = await StoredAsync(ack, copies[i].Owner, copies[i].Body, cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                turn.MarkTroubled();
                throw;
            }

            return entries;
        }
        finally
        {
            foreach (var future in futures)
            {
                await future.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Publishes one copy and waits for the PubAck: the stream has it on a quorum of replicas. A copy the stream
    /// already had (a retry inside the duplicate window) is read back, so the caller reports the first time.
    /// </summary>
    private async Task<LogEntry> PublishAsync(string sender, string owner, MessageId id, EntryBody body, CancellationToken cancellationToken)
    {
        var ack = await _js.PublishAsync(_topology.LogSubject(owner), JsonSerializer.SerializeToUtf8Bytes(body, JsonContext.Default.EntryBody),
            opts: new NatsJSPubOpts { MsgId = Keys.MsgId(sender, id, owner), RetryAttempts = 20, RetryWaitBetweenAttempts = TimeSpan.FromMilliseconds(250) },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return await StoredAsync(ack, owner, body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stored copy a PubAck stands for: the one just published, or for a duplicate the first one (read back).</summary>
    private async Task<LogEntry> StoredAsync(PubAckResponse ack, string owner, EntryBody body, CancellationToken cancellationToken)
    {
        // Not EnsureSuccess: it throws on a duplicate, which here is the answer wanted (the copy is already stored).
        if (ack.Error is { } error)
        {
            throw new NatsJSApiException(error);
        }

        if (ack.Duplicate && await GetBySeqAsync(ack.Seq, cancellationToken).ConfigureAwait(false) is { } first)
        {
            return first;
        }

        return ToEntry(owner, ack.Seq, body);
    }

    /// <summary>The entry (from, id) in <paramref name="owner"/>'s log after <paramref name="after"/>, if any.</summary>
    private async Task<LogEntry?> FindAfterAsync(string owner, ulong after, string from, MessageId id, CancellationToken cancellationToken)
    {
        while (true)
        {
            var batch = await ReadRawAsync(owner, after, ScanBatch, cancellationToken).ConfigureAwait(false);
            foreach (var (entry, _) in batch)
            {
                if (entry.From == from && entry.Id == id)
                {
                    return entry;
                }

                after = entry.Sequence;
            }

            if (batch.Count < ScanBatch)
            {
                return null;
            }
        }
    }

    private async Task<LogEntry?> GetBySeqAsync(ulong seq, CancellationToken cancellationToken)
    {
        var stored = await GetMessageAsync(new StreamMsgGetRequest { Seq = seq }, cancellationToken).ConfigureAwait(false);
        return stored is null ? null : Decode(_topology.OwnerOf(stored.Subject), stored.Seq, stored.Data).Entry;
    }

    /// <summary>STREAM.MSG.GET on the log stream, answered by its leader; null when there is no such message.</summary>
    private async Task<StoredMessage?> GetMessageAsync(StreamMsgGetRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _js.JSRequestResponseAsync<StreamMsgGetRequest, StreamMsgGetResponse>(
                $"{_js.Opts.Prefix}.STREAM.MSG.GET.{_topology.LogStream}", request, cancellationToken).ConfigureAwait(false);
            return response.Message;
        }
        catch (NatsJSApiException exception) when (exception.Error.Code == 404)
        {
            return null;
        }
    }

    private async Task<SubmitRecord?> GetSubmitAsync(string key, CancellationToken cancellationToken)
    {
        var entry = await GetEntryAsync<byte[]>(_submits, key, cancellationToken).ConfigureAwait(false);
        return entry is { Value: not null } && entry.Value is { } bytes ? JsonSerializer.Deserialize(bytes, JsonContext.Default.SubmitRecord) : null;
    }

    /// <summary>Accounts are never deleted, so a user once seen stays known on this node.</summary>
    private async Task<bool> UserExistsAsync(string user, CancellationToken cancellationToken)
    {
        if (_knownUsers.ContainsKey(user))
        {
            return true;
        }

        var exists = await GetPasswordHashAsync(user, cancellationToken).ConfigureAwait(false) is not null;
        if (exists)
        {
            _knownUsers[user] = true;
        }

        return exists;
    }

    /// <summary>
    /// The quota, as the SQLite store: messages from others after the user's most advanced cursor. Cheap bound first:
    /// the number of messages in the user's subject (one stream-info request). Only a log at least that long is
    /// counted exactly, by creating a short-lived consumer from the cursor and reading its pending count; that count
    /// includes the user's own sent copies (which SQLite leaves out), so the quota is slightly stricter here.
    /// </summary>
    private async Task<bool> IsQueueFullAsync(string user, CancellationToken cancellationToken)
    {
        var limit = (ulong)_options.Limits.MaxUnacknowledgedPerUser;
        var subject = _topology.LogSubject(user);
        var stream = await _js.GetStreamAsync(_topology.LogStream, new StreamInfoRequest { SubjectsFilter = subject }, cancellationToken).ConfigureAwait(false);
        var total = stream.Info.State.Subjects is { } subjects && subjects.TryGetValue(subject, out var count) ? (ulong)count : 0;
        if (total < limit)
        {
            return false;
        }

        var cursors = await GetEntryAsync<byte[]>(_cursors, Keys.Hex(user), cancellationToken).ConfigureAwait(false);
        var devices = cursors?.Value is { } bytes ? JsonSerializer.Deserialize(bytes, JsonContext.Default.DictionaryStringUInt64) : null;
        var max = devices is { Count: > 0 } ? devices.Values.Max() : 0;
        // The classic ephemeral-consumer request, by hand: NATS.Net's create uses the 2.10 subject form (filter in the
        // subject), which 2.9 refuses, and its request type is internal.
        var request = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["stream_name"] = _topology.LogStream,
            ["config"] = new Dictionary<string, object>
            {
                ["filter_subject"] = subject,
                ["deliver_policy"] = "by_start_sequence",
                ["opt_start_seq"] = max + 1,
                ["ack_policy"] = "none",
                ["inactive_threshold"] = 10_000_000_000L,
                ["mem_storage"] = true,
                ["num_replicas"] = 1,
            },
        }, JsonContext.Default.DictionaryStringObject);
        var reply = await _connection.RequestAsync<byte[], byte[]>($"{_js.Opts.Prefix}.CONSUMER.CREATE.{_topology.LogStream}", request,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        using var info = JsonDocument.Parse(reply.Data ?? []);
        if (info.RootElement.TryGetProperty("error", out var error))
        {
            throw new NatsJSException($"counting {user}'s unacknowledged messages failed: {error}");
        }

        try
        {
            return info.RootElement.GetProperty("num_pending").GetUInt64() >= limit;
        }
        finally
        {
            await _js.DeleteConsumerAsync(_topology.LogStream, info.RootElement.GetProperty("name").GetString()!, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Tells this node's router at once, then every other node through the core subject.</summary>
    private async Task AnnounceAsync(List<LogEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        RaiseCommitted(entries);
        foreach (var entry in entries)
        {
            var body = new LiveBody(_node, entry.Owner, entry.Sequence, new EntryBody(entry.Id.ToString(), entry.From, entry.To, entry.Time, entry.Text, 0,
                entry.File?.FileId.ToString(), entry.File?.Name, entry.File?.Size ?? 0, entry.File is null ? null : Convert.ToBase64String(entry.File.Sha256)));
            try
            {
                await _connection.PublishAsync(_topology.LiveSubjectPrefix + Keys.Hex(entry.Owner),
                    JsonSerializer.SerializeToUtf8Bytes(body, JsonContext.Default.LiveBody)).ConfigureAwait(false);
            }
            catch (NatsException)
            {
                // Announcements are a latency hint: the entry is stored, and a session finds it at its next read.
            }
        }
    }

    /// <summary>One thread at a time, as <see cref="IChatStore.Committed"/> promises the router.</summary>
    private void RaiseCommitted(IReadOnlyList<LogEntry> entries)
    {
        lock (_callbackLock)
        {
            Committed?.Invoke(entries);
        }
    }

    private void RaiseDelivered(IReadOnlyList<DeliveryReceipt> receipts)
    {
        lock (_callbackLock)
        {
            Delivered?.Invoke(receipts);
        }
    }
}
