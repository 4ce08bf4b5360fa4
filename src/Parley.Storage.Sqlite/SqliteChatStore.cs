using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Storage.Sqlite.Internal;

namespace Parley.Storage.Sqlite;

/// <summary>
/// The embedded store: two SQLite files in WAL mode with <c>synchronous=FULL</c> set on every connection (security.md
/// 21, V7): the main file (accounts, devices, tokens, and the staged log every append goes to) and the history file
/// (the merged, indexed log; <see cref="HistoryFile"/>). All writes to the main file go through one writer thread that
/// commits up to <see cref="StoreLimits.MaxBatch"/> queued operations in one transaction (group commit): one fsync
/// then acknowledges many messages, which is where the throughput comes from, without weakening durability. Merges
/// into the history file run on their own thread (<see cref="MergeWorker"/>). Reads use their own pooled connections
/// and never block writes.
/// </summary>
public sealed class SqliteChatStore : IChatStore
{
    private const int SchemaVersion = 1;

    /// <summary>Commits without a merge between two checkpoint requests.</summary>
    private const int CommitsPerCheckpoint = 64;
    private readonly SqliteStoreOptions _options;
    private readonly string _connectionString;
    private readonly Channel<WriteOp> _writes = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly LogState _state;
    private readonly Thread _writer;
    private readonly SqliteConnection _writeConnection;
    private readonly CommandCache _commands;
    private AppendStatements? _appendStatements;
    private Checkpointer? _checkpointer;
    private MergeWorker? _merger;

    /// <summary>Merges the merge thread has finished (or failed), for the writer thread to complete.</summary>
    private readonly ConcurrentQueue<(MergeJob Job, Exception? Failure)> _finishedMerges = new();

    /// <summary>Released once for every merge the merge thread finishes; the writer waits on it when a partition is full.</summary>
    private readonly SemaphoreSlim _mergeFinished = new(0);

    private int _mergesCompleted;
    private int _mergesFailed;
    private int _mergeWaits;

    /// <summary>Per partition, a merge that failed and the timestamp from which it is posted again (writer thread only).</summary>
    private readonly (MergeJob Job, long At)?[] _mergeRetries;
    private int _commitsSinceCheckpoint;
    private int _disposed;

    private SqliteChatStore(SqliteStoreOptions options)
    {
        SqliteProcessConfig.EnsureApplied();
        _options = options;
        // Receipts are usually asked for within a few merges of the entries they cover (docs/architecture.md).
        var partitions = new StagedPartitions(options.StagedPartitions);
        _state = new LogState(recentlyMergedEntries: (int)Math.Min(int.MaxValue, 4L * partitions.Count * options.StagedEntries), partitions);
        _mergeRetries = new (MergeJob, long)?[partitions.Count];
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = options.Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _writeConnection = OpenConnection();
        using (var cache = _writeConnection.CreateCommand())
        {
            // A negative cache_size is in KiB.
            // The checkpoints run on their own thread (Checkpointer); the writer's automatic one, at 16 times SQLite's
            // default, only stops the WAL growing should that thread fall far behind.
            // temp_store=MEMORY: a merge is one INSERT … SELECT of thousands of rows, and SQLite journals every page such a
            // statement changes (so it could undo the statement alone) in a temporary file: 1,700 page writes a merge,
            // 40 % of the writer's pwrite calls in W2 (docs/performance.md, session 7). In memory that journal is a copy (about 7 MB
            // while a merge runs).
            cache.CommandText = WriterPragmas;
            cache.ExecuteNonQuery();
        }

        _commands = new CommandCache(_writeConnection);
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "parley-store-writer" };
    }

    /// <inheritdoc />
    public Action<IReadOnlyList<LogEntry>>? Committed { get; set; }

    /// <summary>Merges completed since the store opened (both halves committed); for tests.</summary>
    internal int MergesCompleted => Volatile.Read(ref _mergesCompleted);

    /// <summary>Merges that failed since the store opened (their entries stayed staged); for tests.</summary>
    internal int MergesFailed => Volatile.Read(ref _mergesFailed);

    /// <summary>Times the writer stopped to wait for a merge because a partition was full; for tests.</summary>
    internal int MergeWaits => Volatile.Read(ref _mergeWaits);

    /// <inheritdoc />
    public Action<IReadOnlyList<DeliveryReceipt>>? Delivered { get; set; }

    /// <summary>Opens (creating if needed) the store file and starts the writer thread.</summary>
    public static SqliteChatStore Open(SqliteStoreOptions options)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(options.Path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var store = new SqliteChatStore(options);
        store.CreateSchema();
        store._appendStatements = new AppendStatements(store._writeConnection, store._state.Partitions);
        store._checkpointer = new Checkpointer(store.OpenConnection());
        store._merger = new MergeWorker(store.OpenMergeConnection(), store.OnMergeFinished);
        store._writer.Start();
        return store;
    }

    /// <summary>
    /// Opens a connection with the per-connection settings applied and the history file attached. synchronous is not
    /// stored in the file, so it is set here on every connection, pooled or not, for both files (security.md V7).
    /// </summary>
    internal SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        HistoryFile.AttachOnce(connection, _options.HistoryPath);
        using var pragmas = connection.CreateCommand();
        pragmas.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA {HistoryFile.Schema}.synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    /// <summary>The settings of the two connections that write (the writer's and the merge thread's); why each, where the writer's are set.</summary>
    private string WriterPragmas =>
        $"PRAGMA cache_size=-{Math.Max(1, _options.WriterCacheBytes / 1024)}; PRAGMA wal_autocheckpoint=16000; PRAGMA temp_store=MEMORY";

    /// <summary>
    /// The merge thread's connection: the history file as <c>main</c> (with the writer's cache size: the merges now
    /// write the tail pages of every user's log), the main file attached as <see cref="MergeWorker.StageSchema"/>.
    /// </summary>
    internal SqliteConnection OpenMergeConnection()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = _options.HistoryPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        using var setup = connection.CreateCommand();
        setup.CommandText = $"""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; {WriterPragmas};
            ATTACH DATABASE $main AS {MergeWorker.StageSchema};
            PRAGMA {MergeWorker.StageSchema}.synchronous=FULL;
            """;
        setup.Parameters.AddWithValue("$main", _options.Path);
        setup.ExecuteNonQuery();
        return connection;
    }

    /// <inheritdoc />
    public Task<bool> CreateUserAsync(string user, string passwordHash, CancellationToken cancellationToken = default) =>
        Enqueue(new DelegateWriteOp<bool>(context =>
        {
            using var insert = context.Connection.CreateCommand();
            insert.CommandText = "INSERT OR IGNORE INTO users(name, password, created) VALUES ($name, $password, $created)";
            insert.Parameters.AddWithValue("$name", user);
            insert.Parameters.AddWithValue("$password", passwordHash);
            insert.Parameters.AddWithValue("$created", _options.Time.GetUtcNow().ToUnixTimeMilliseconds());
            return insert.ExecuteNonQuery() == 1;
        }));

    /// <inheritdoc />
    public async Task<string?> GetPasswordHashAsync(string user, CancellationToken cancellationToken = default)
    {
        await using var connection = OpenConnection();
        await using var query = connection.CreateCommand();
        query.CommandText = "SELECT password FROM users WHERE name = $name";
        query.Parameters.AddWithValue("$name", user);
        return await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    /// <inheritdoc />
    public Task SetPasswordHashAsync(string user, string passwordHash, CancellationToken cancellationToken = default) =>
        Enqueue(new DelegateWriteOp<int>(context =>
        {
            using var update = context.Connection.CreateCommand();
            update.CommandText = "UPDATE users SET password = $password WHERE name = $name";
            update.Parameters.AddWithValue("$name", user);
            update.Parameters.AddWithValue("$password", passwordHash);
            return update.ExecuteNonQuery();
        }));

    /// <inheritdoc />
    public Task AddTokenAsync(ResumeTokenRecord token, CancellationToken cancellationToken = default) =>
        Enqueue(new DelegateWriteOp<int>(context => AddToken(context.Commands, token)));

    private static int AddToken(CommandCache commands, ResumeTokenRecord token)
    {
        var insert = commands.Get(
            "INSERT OR REPLACE INTO tokens(hash, user, device, expires) VALUES ($hash, $user, $device, $expires)",
            "$hash", "$user", "$device", "$expires");
        insert.Parameters[0].Value = token.Hash;
        insert.Parameters[1].Value = token.User;
        insert.Parameters[2].Value = token.Device;
        insert.Parameters[3].Value = token.Expires.ToUnixTimeMilliseconds();
        return insert.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public Task<ResumeTokenRecord?> TakeTokenAsync(byte[] tokenHash, CancellationToken cancellationToken = default) =>
        Enqueue(new DelegateWriteOp<ResumeTokenRecord?>(context => TakeToken(context.Commands, tokenHash)));

    /// <inheritdoc />
    public Task<ResumeTokenRecord?> ExchangeTokenAsync(byte[] presentedHash, ResumeTokenRecord replacement, DateTimeOffset now,
        CancellationToken cancellationToken = default) =>
        // Both statements in the writer's one transaction: one commit (and fsync) per resume instead of two.
        Enqueue(new DelegateWriteOp<ResumeTokenRecord?>(context =>
        {
            var taken = TakeToken(context.Commands, presentedHash);
            if (taken is not null && taken.User == replacement.User && taken.Device == replacement.Device && taken.Expires >= now)
            {
                AddToken(context.Commands, replacement);
            }

            return taken;
        }));

    // The token statements are the writer's cached ones: one is run for every login.
    private static ResumeTokenRecord? TakeToken(CommandCache commands, byte[] tokenHash)
    {
        var take = commands.Get("DELETE FROM tokens WHERE hash = $hash RETURNING user, device, expires", "$hash");
        take.Parameters[0].Value = tokenHash;
        using var reader = take.ExecuteReader();
        return reader.Read()
            ? new ResumeTokenRecord(tokenHash, reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)))
            : null;
    }

    /// <inheritdoc />
    public Task RevokeTokensAsync(string user, string? device, CancellationToken cancellationToken = default) =>
        Enqueue(new DelegateWriteOp<int>(context =>
        {
            using var delete = context.Connection.CreateCommand();
            delete.CommandText = device is null
                ? "DELETE FROM tokens WHERE user = $user"
                : "DELETE FROM tokens WHERE user = $user AND device = $device";
            delete.Parameters.AddWithValue("$user", user);
            if (device is not null)
            {
                delete.Parameters.AddWithValue("$device", device);
            }

            return delete.ExecuteNonQuery();
        }));

    /// <inheritdoc />
    public Task<AppendResult> AppendAsync(Submission submission, CancellationToken cancellationToken = default) =>
        Enqueue(new AppendOp(submission, _options.Limits));

    /// <inheritdoc />
    public void Append(Submission submission, Action<AppendResult, Exception?> completed) =>
        Post(new AppendOp(submission, _options.Limits, completed));

    /// <inheritdoc />
    public async Task<IReadOnlyList<LogEntry>> ReadLogAsync(string owner, ulong after, int max, CancellationToken cancellationToken = default)
    {
        // Staged entries first, the table second: a merge in between then shows an entry twice (dropped by sequence),
        // never not at all (StagedLog).
        var staged = _state.Staged.After(owner, after, max);
        await using var connection = OpenConnection();
        await using var query = connection.CreateCommand();
        query.CommandText = "SELECT seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha FROM log WHERE owner = $owner AND seq > $after ORDER BY seq LIMIT $max";
        query.Parameters.AddWithValue("$owner", owner);
        query.Parameters.AddWithValue("$after", (long)after);
        query.Parameters.AddWithValue("$max", max);
        var entries = new List<LogEntry>();
        await using (var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new LogEntry(owner, (ulong)reader.GetInt64(0), new MessageId((byte[])reader.GetValue(1)),
                    reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetString(5), FileColumns.Read(reader, 6)));
            }
        }

        return LogUnion.Of(entries, staged, max, ascending: true);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LogEntry>> ReadHistoryAsync(string owner, ulong before, int max, string? peer, CancellationToken cancellationToken = default)
    {
        var staged = _state.Staged.Before(owner, before, max, peer).ConvertAll(entry => entry with { File = null });
        await using var connection = OpenConnection();
        await using var query = connection.CreateCommand();
        query.CommandText = peer is null
            ? "SELECT seq, id, sender, recipient, time, body FROM log WHERE owner = $owner AND seq < $before ORDER BY seq DESC LIMIT $max"
            : "SELECT seq, id, sender, recipient, time, body FROM log WHERE owner = $owner AND seq < $before AND (sender = $peer OR recipient = $peer) ORDER BY seq DESC LIMIT $max";
        query.Parameters.AddWithValue("$owner", owner);
        query.Parameters.AddWithValue("$before", before == 0 ? long.MaxValue : (long)Math.Min(before, long.MaxValue));
        query.Parameters.AddWithValue("$max", max);
        if (peer is not null)
        {
            query.Parameters.AddWithValue("$peer", peer);
        }

        var entries = new List<LogEntry>();
        await using (var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new LogEntry(owner, (ulong)reader.GetInt64(0), new MessageId((byte[])reader.GetValue(1)),
                    reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetString(5)));
            }
        }

        var newestFirst = LogUnion.Of(entries, staged, max, ascending: false);
        newestFirst.Reverse();
        return newestFirst;
    }


    /// <inheritdoc />
    public async Task<ulong> GetHeadAsync(string owner, CancellationToken cancellationToken = default)
    {
        if (_state.PublishedHeads.TryGetValue(owner, out var head))
        {
            return head;
        }

        // Not published: nothing was appended to this log since the store opened, and Open merged every staged entry,
        // so the table's head is the head. It is published here too, or a user nobody writes to would cost a query at
        // every login. A log only grows, so the larger of this and a head the writer published meanwhile is kept.
        await using var connection = OpenConnection();
        await using var query = connection.CreateCommand();
        query.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM log WHERE owner = $owner";
        query.Parameters.AddWithValue("$owner", owner);
        var stored = (ulong)(long)(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return _state.PublishedHeads.AddOrUpdate(owner, static (_, read) => read, static (_, published, read) => Math.Max(published, read), stored);
    }

    /// <inheritdoc />
    public Task SaveCursorAsync(string user, string device, ulong acknowledged, CancellationToken cancellationToken = default) =>
        Enqueue(new CursorOp(user, device, acknowledged));

    /// <inheritdoc />
    public async Task<ulong> GetCursorAsync(string user, string device, CancellationToken cancellationToken = default)
    {
        await using var connection = OpenConnection();
        await using var query = connection.CreateCommand();
        query.CommandText = "SELECT acked FROM devices WHERE user = $user AND device = $device";
        query.Parameters.AddWithValue("$user", user);
        query.Parameters.AddWithValue("$device", device);
        return await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long acked ? (ulong)acked : 0;
    }

    /// <summary>Finishes every queued write, then closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return; // a second close finds nothing to finish
        }

        _writes.Writer.TryComplete();
        await Task.Run(_writer.Join).ConfigureAwait(false);
        _merger?.Dispose(); // finishes the merge in hand; RunAll below moves the rest
        _mergeFinished.Dispose();
        _checkpointer?.Dispose();
        _commands.Dispose();
        _appendStatements?.Dispose();
        try
        {
            // Leave nothing staged after a clean shutdown; if this fails, the next start merges it.
            StagedMerge.RunAll(_writeConnection);
        }
        catch (SqliteException)
        {
        }

        _writeConnection.Dispose();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }

    private Task<T> Enqueue<T>(WriteOp<T> op)
    {
        Post(op);
        return op.Task;
    }

    /// <summary>Queues <paramref name="op"/> for the writer thread, or fails it at once when the store is closed.</summary>
    private void Post(WriteOp op)
    {
        if (!_writes.Writer.TryWrite(op))
        {
            op.Fail(new ObjectDisposedException(nameof(SqliteChatStore), "the store is closed"));
        }
    }

    private void CreateSchema()
    {
        using var command = _writeConnection.CreateCommand();
        command.CommandText = $"""
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '{SchemaVersion}');
            CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, password TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS tokens(hash BLOB PRIMARY KEY, user TEXT NOT NULL, device TEXT NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens(user, device);
            CREATE TABLE IF NOT EXISTS devices(user TEXT NOT NULL, device TEXT NOT NULL, acked INTEGER NOT NULL, seen INTEGER NOT NULL,
                PRIMARY KEY(user, device)) WITHOUT ROWID;
            """;
        command.ExecuteNonQuery();
        HistoryFile.RebuildClusteredTables(_writeConnection);
        using (var history = _writeConnection.CreateCommand())
        {
            history.CommandText = HistoryFile.Tables;
            history.ExecuteNonQuery();
        }

        // A store from before the history file has its log in the main file: its columns are brought up to date there
        // (SQL without a schema finds the main file's table first), then it moves.
        FileColumns.Migrate(_writeConnection);
        using var staged = _writeConnection.CreateCommand();
        staged.CommandText = StagedMerge.Schema(_state.Partitions);
        staged.ExecuteNonQuery();
        SenderSequenceColumn.Migrate(_writeConnection); // staged tables a crash left behind get it before the merge below
        HistoryFile.MoveFromMain(_writeConnection);
        using (var version = _writeConnection.CreateCommand())
        {
            version.CommandText = $"UPDATE meta SET value = '{HistoryFile.SchemaVersion}' WHERE key = 'schema' AND CAST(value AS INTEGER) < {HistoryFile.SchemaVersion}";
            version.ExecuteNonQuery();
        }

        // What a crash left staged goes into the indexed tables before anything reads or writes.
        StagedMerge.RunAll(_writeConnection);
    }

    private void WriterLoop()
    {
        var batch = new List<WriteOp>(_options.Limits.MaxBatch);
        var reader = _writes.Reader;
        while (true)
        {
            CompleteFinishedMerges();
            batch.Clear();
            if (!reader.TryRead(out var first))
            {
                // Block this dedicated thread until work arrives or the store is closed.
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    return;
                }

                continue;
            }

            if (first is not WakeOp)
            {
                batch.Add(first);
            }

            while (batch.Count < _options.Limits.MaxBatch && reader.TryRead(out var next))
            {
                if (next is not WakeOp)
                {
                    batch.Add(next);
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            if (!TryCommit(batch))
            {
                // One operation spoiled the batch: run each alone so only that one fails.
                foreach (var op in batch)
                {
                    TryCommit([op]);
                }
            }

            StartMerges();
            WaitWhilePartitionFull();
        }
    }

    /// <summary>
    /// Backpressure when merges fall behind (a slow disk under the history file, say): a partition whose merge is
    /// under way takes at most <see cref="SqliteStoreOptions.MaxStagedFactor"/> − 1 times
    /// <see cref="SqliteStoreOptions.StagedEntries"/> new entries; beyond that the writer waits for merges to finish
    /// before it commits more, so the staged log (and the memory that mirrors it) stays bounded and appends wait, as
    /// they did when the writer merged inline. A partition whose merge failed does not hold the writer while it waits
    /// for its retry: a history file that refuses merges must not stop the appends the main file still takes.
    /// </summary>
    private void WaitWhilePartitionFull()
    {
        if (!AnyPartitionFull())
        {
            return;
        }

        Interlocked.Increment(ref _mergeWaits);
        while (_mergeFinished.Wait(0))
        {
            // Releases of merges finished earlier: their completions are in the queue, handled below.
        }

        while (true)
        {
            CompleteFinishedMerges();
            StartMerges();
            if (!AnyPartitionFull())
            {
                return;
            }

            // Timed: a completion whose delete failed is queued again and must be retried without a new release.
            _mergeFinished.Wait(TimeSpan.FromSeconds(1));
        }
    }

    private bool AnyPartitionFull()
    {
        var bound = (long)Math.Max(1, _options.MaxStagedFactor - 1) * _options.StagedEntries;
        for (var partition = 0; partition < _state.Partitions.Count; partition++)
        {
            if (_mergeRetries[partition] is null && _state.Staged.IsFrozen(partition) && _state.Staged.UnfrozenCountIn(partition) >= bound)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Called on the merge thread when a merge committed into the history file (or failed): wakes the writer.</summary>
    private void OnMergeFinished(MergeJob job, Exception? failure)
    {
        _finishedMerges.Enqueue((job, failure));
        _mergeFinished.Release(); // a writer waiting for room (WaitWhilePartitionFull)
        _writes.Writer.TryWrite(WakeOp.Instance); // refused once the store is closing: RunAll then moves the rest
    }

    /// <summary>
    /// Starts a merge of every partition that holds <see cref="SqliteStoreOptions.StagedEntries"/> entries not yet
    /// set aside and has none under way, and posts again a failed merge whose second has passed. Between two batches,
    /// so what the partition holds in memory is exactly its committed rows in the slot the job names; later appends
    /// go to the other slot.
    /// </summary>
    private void StartMerges()
    {
        for (var partition = 0; partition < _state.Partitions.Count; partition++)
        {
            if (_mergeRetries[partition] is { } retry)
            {
                if (Stopwatch.GetTimestamp() >= retry.At)
                {
                    _mergeRetries[partition] = null;
                    _merger!.Post(retry.Job);
                }

                continue;
            }

            if (_state.Staged.IsFrozen(partition) || _state.Staged.UnfrozenCountIn(partition) < _options.StagedEntries)
            {
                continue;
            }

            var slot = _state.ActiveSlot(partition);
            var (lastLog, lastSubmit) = StagedMerge.LastRows(_writeConnection, null, partition, slot);
            _state.Staged.Freeze(partition);
            _state.FreezeStagedSubmits(partition);
            _state.SwitchSlot(partition);
            _merger!.Post(new MergeJob(partition, slot, lastLog, lastSubmit));
        }
    }

    /// <summary>
    /// The writer's half of the merges the merge thread finished: their rows leave the staged tables, in a transaction
    /// of their own, and only after that commit do their entries leave memory (readers find them in the history file
    /// from the merge's commit on). A failed merge leaves its rows staged and its entries set aside, and the same job is
    /// posted again a second later (<see cref="StartMerges"/>): the partition's other slot takes appends meanwhile.
    /// </summary>
    private void CompleteFinishedMerges()
    {
        List<(MergeJob, Exception?)>? again = null;
        while (_finishedMerges.TryDequeue(out var finished))
        {
            var (job, failure) = finished;
            if (failure is not null)
            {
                _mergeRetries[job.Partition] = (job, Stopwatch.GetTimestamp() + Stopwatch.Frequency);
                Interlocked.Increment(ref _mergesFailed);
                continue;
            }

            try
            {
                using var transaction = _writeConnection.BeginTransaction(deferred: true);
                StagedMerge.DeleteMerged(_writeConnection, transaction, job);
                transaction.Commit();
            }
            catch (Exception exception) when (exception is SqliteException or InvalidOperationException)
            {
                (again ??= []).Add(finished); // the rows are in both files, which is harmless; the delete is tried again
                continue;
            }

            _state.Merged.Add(_state.Staged.TakeFrozen(job.Partition));
            _state.ClearFrozenSubmits(job.Partition);
            Interlocked.Increment(ref _mergesCompleted);
            _commitsSinceCheckpoint = 0;
            _checkpointer?.Request(); // a merge wrote hundreds of pages into the history file's WAL
        }

        foreach (var finished in again ?? [])
        {
            _finishedMerges.Enqueue(finished);
        }
    }

    private bool TryCommit(List<WriteOp> ops)
    {
        var context = new WriterContext(_writeConnection, _commands, _appendStatements!, _state, _options.Time.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var op in ops)
        {
            if (op is CursorOp cursor && cursor.Acknowledged > context.CursorTargets.GetValueOrDefault(cursor.Key))
            {
                context.CursorTargets[cursor.Key] = cursor.Acknowledged;
            }
        }

        try
        {
            using (var transaction = _writeConnection.BeginTransaction(deferred: true))
            {
                _commands.Transaction = transaction;
                foreach (var op in ops)
                {
                    op.Execute(context);
                }

                transaction.Commit();
            }
        }
        catch (Exception exception) when (exception is SqliteException or InvalidOperationException)
        {
            _state.Reset();
            _state.ReloadStagedSubmits(_writeConnection);
            if (ops.Count == 1)
            {
                ops[0].Fail(exception);
            }

            return false;
        }

        if (++_commitsSinceCheckpoint >= CommitsPerCheckpoint)
        {
            _commitsSinceCheckpoint = 0;
            _checkpointer?.Request();
        }

        if (context.Staged.Count > 0)
        {
            _state.Staged.Add(context.Staged);
        }

        if (context.Appended.Count > 0)
        {
            _state.Publish(context.Appended);
            Committed?.Invoke(context.Appended);
        }

        if (context.Receipts.Count > 0)
        {
            Delivered?.Invoke(context.Receipts);
        }

        foreach (var op in ops)
        {
            op.Complete();
        }

        return true;
    }
}
