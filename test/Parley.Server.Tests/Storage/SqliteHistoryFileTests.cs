using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;
using Parley.Storage.Sqlite;
using Parley.Storage.Sqlite.Internal;

namespace Parley.Server.Tests.Storage;

/// <summary>
/// The history file (docs/architecture.md, "The history file"): merges copy staged rows into a second file on their
/// own thread while appends go on, and the writer deletes them from the staged tables afterwards. What that must keep
/// true: readers see every entry once and in order while merges run, retries stay duplicates whether their submission
/// is staged, being merged or merged, a crash between the two halves (or between moving an old store's log and
/// dropping it) duplicates nothing, and a merge that fails loses nothing and is tried again.
/// </summary>
public sealed class SqliteHistoryFileTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void HistoryPath_ByDefault_BesideTheMainFileWithHistoryBeforeTheExtension()
    {
        Assert.Equal(Path.Combine("data", "parley.history.db"), new SqliteStoreOptions(Path.Combine("data", "parley.db")).HistoryPath);
        Assert.Equal(Path.Combine("data", "store.history"), new SqliteStoreOptions(Path.Combine("data", "store")).HistoryPath);
        Assert.Equal("/elsewhere/h.db", new SqliteStoreOptions("parley.db") { HistoryPath = "/elsewhere/h.db" }.HistoryPath);
    }

    [Fact]
    public async Task AppendAsync_ManySendersWhileMergesRun_ReadersSeeEveryEntryOnceInOrderAndRetriesStayDuplicates()
    {
        // 16 entries a partition: a merge every few batches, each running beside the appends that follow it.
        await using var temp = new TempStore(stagedEntries: 16, stagedPartitions: 4);
        var users = Enumerable.Range(0, 8).Select(i => $"user{i}").ToArray();
        await temp.CreateUsersAsync(users);
        var sent = new ConcurrentDictionary<MessageId, (Submission Submission, ulong SenderSequence)>();
        using var done = new CancellationTokenSource();
        var violations = new ConcurrentQueue<string>();

        // Readers: each read of a log is 1..n without a gap or a repeat, and n never shrinks.
        var readers = users.Take(4).Select(user => Task.Run(async () =>
        {
            var seen = 0;
            while (!done.IsCancellationRequested)
            {
                var entries = await temp.Store.ReadLogAsync(user, 0, 100_000);
                for (var i = 0; i < entries.Count; i++)
                {
                    if (entries[i].Sequence != (ulong)i + 1)
                    {
                        violations.Enqueue($"{user}: entry {i} has sequence {entries[i].Sequence}");
                        return;
                    }
                }

                if (entries.Count < seen)
                {
                    violations.Enqueue($"{user}: {entries.Count} entries after {seen}");
                    return;
                }

                seen = entries.Count;
                await Task.Delay(1); // reads are synchronous underneath: leave the thread pool to the senders in between
            }
        })).ToList();

        // Senders: every seventh send is a retry of an earlier message of the same sender, which must come back as a
        // duplicate with the first sequence, wherever its submission is at that moment.
        var senders = Enumerable.Range(0, 4).Select(s => Task.Run(async () =>
        {
            var mine = new List<Submission>();
            var random = new Random(s);
            for (var i = 0; i < 300; i++)
            {
                if (i % 7 == 6)
                {
                    var retry = mine[random.Next(mine.Count)];
                    var again = await temp.Store.AppendAsync(retry);
                    if (again.Status != AppendStatus.Duplicate || again.SenderSequence != sent[retry.Id].SenderSequence)
                    {
                        violations.Enqueue($"retry of {retry.Text}: {again.Status} at {again.SenderSequence}, first at {sent[retry.Id].SenderSequence}");
                    }

                    continue;
                }

                var submission = new Submission(users[s], MessageId.NewRandom(), users[(s + 1 + i % 7) % users.Length], $"{users[s]} {i}");
                var result = await temp.Store.AppendAsync(submission);
                Assert.Equal(AppendStatus.Stored, result.Status);
                sent[submission.Id] = (submission, result.SenderSequence);
                mine.Add(submission);
            }
        })).ToList();

        await Task.WhenAll(senders).WaitAsync(Patience);
        await done.CancelAsync();
        await Task.WhenAll(readers).WaitAsync(Patience);

        Assert.Empty(violations);
        Assert.True(temp.Store.MergesCompleted > 0, "merges should have run while the senders sent");
        foreach (var user in users)
        {
            var log = await temp.Store.ReadLogAsync(user, 0, 100_000);
            Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (ulong)i), log.Select(e => e.Sequence));
            var expected = sent.Values.Count(v => v.Submission.From == user) + sent.Values.Count(v => v.Submission.To == user);
            Assert.Equal(expected, log.Count);
        }

        // And after a restart, from the history file alone.
        await temp.ReopenAsync();
        Assert.Equal(0, TempStore.CountRows(temp.Path, "staged_log"));
        Assert.Equal(sent.Count * 2, TempStore.CountRows(temp.Path, "log"));
        foreach (var (_, (submission, senderSequence)) in sent.Take(50))
        {
            var again = await temp.Store.AppendAsync(submission);
            Assert.Equal((AppendStatus.Duplicate, senderSequence), (again.Status, again.SenderSequence));
        }
    }

    [Fact]
    public async Task Open_CrashAfterAMergeCommittedBeforeItsRowsLeftTheStagedTables_EachEntryOnce()
    {
        await using var temp = new TempStore(stagedPartitions: 1);
        await temp.CreateUsersAsync("alice", "bob");
        var first = new Submission("alice", MessageId.NewRandom(), "bob", "one");
        await temp.Store.AppendAsync(first);
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "two"));

        // The clean close merged both. Put them back into the staged tables too: the history file committed the
        // merge, the main file had not yet deleted the rows.
        await temp.ReopenAsync(path =>
        {
            using var connection = TempStore.Connect(path);
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO main.staged_log(owner, seq, id, sender, recipient, time, body, sender_seq)
                    SELECT owner, seq, id, sender, recipient, time, body, sender_seq FROM history.log;
                INSERT INTO main.staged_submits SELECT sender, id, digest, seq, time FROM history.submits;
                """;
            Assert.Equal(6, command.ExecuteNonQuery());
        });

        Assert.Equal(0, TempStore.CountRows(temp.Path, "staged_log"));
        Assert.Equal(4, TempStore.CountRows(temp.Path, "log"));
        Assert.Equal(["one", "two"], (await temp.Store.ReadLogAsync("bob", 0, 10)).Select(e => e.Text));
        Assert.Equal(AppendStatus.Duplicate, (await temp.Store.AppendAsync(first)).Status);
        Assert.Equal(3UL, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "three"))).SenderSequence);
    }

    [Fact]
    public async Task Open_CrashAfterAnOldStoresLogWasCopiedBeforeItWasDropped_EachEntryOnce()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob");
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "one"));
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "two"));

        // The log is in the history file; give the main file its own copy as a store from before the history file
        // had it: the move's first transaction (the copy) committed, its second (the drop) did not.
        await temp.ReopenAsync(path =>
        {
            using var connection = TempStore.Connect(path);
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE main.log AS SELECT * FROM history.log;
                CREATE TABLE main.submits AS SELECT * FROM history.submits;
                UPDATE meta SET value = '3' WHERE key = 'schema';
                """;
            command.ExecuteNonQuery();
        });

        Assert.Equal(4, TempStore.CountRows(temp.Path, "log")); // the main file's table is gone
        Assert.Equal(["one", "two"], (await temp.Store.ReadLogAsync("bob", 0, 10)).Select(e => e.Text));
        Assert.Equal(3UL, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "three"))).SenderSequence);
    }

    [Fact]
    public async Task Open_HistoryFileOfSchema4_TablesBecomeRowidTablesWithUniqueIndexesAndKeepEveryEntry()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob");
        var first = new Submission("alice", MessageId.NewTimeOrdered(), "bob", "one");
        await temp.Store.AppendAsync(first);
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewTimeOrdered(), "bob", "two"));
        await temp.Store.AppendAsync(new Submission("bob", MessageId.NewTimeOrdered(), "alice", "three"));

        // Give the history file the tables of schema 4, clustered by their keys, with the same rows.
        await temp.ReopenAsync(path => ExecuteOnHistory(path, """
            CREATE TABLE history.log_4(owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL,
                recipient TEXT NOT NULL, time INTEGER NOT NULL, body TEXT NOT NULL, file_id BLOB, file_name TEXT, file_size INTEGER,
                file_sha BLOB, sender_seq INTEGER, PRIMARY KEY(owner, seq)) WITHOUT ROWID;
            INSERT INTO history.log_4 SELECT owner, seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha, sender_seq FROM history.log;
            DROP TABLE history.log;
            ALTER TABLE history.log_4 RENAME TO log;
            CREATE TABLE history.submits_4(sender TEXT NOT NULL, id BLOB NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL,
                time INTEGER NOT NULL, PRIMARY KEY(sender, id)) WITHOUT ROWID;
            INSERT INTO history.submits_4 SELECT sender, id, digest, seq, time FROM history.submits;
            DROP TABLE history.submits;
            ALTER TABLE history.submits_4 RENAME TO submits;
            UPDATE meta SET value = '4' WHERE key = 'schema';
            """));

        Assert.Equal(
            ["index log_by_owner", "index submits_by_sender", "table log", "table submits"],
            HistorySchema(temp.Path));
        Assert.Equal(6, TempStore.CountRows(temp.Path, "log"));
        Assert.Equal(3, TempStore.CountRows(temp.Path, "submits"));
        Assert.Equal(["one", "two", "three"], (await temp.Store.ReadLogAsync("bob", 0, 10)).Select(e => e.Text));
        var retry = await temp.Store.AppendAsync(first);
        Assert.Equal((AppendStatus.Duplicate, 1UL), (retry.Status, retry.SenderSequence));
        Assert.Equal(4UL, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewTimeOrdered(), "bob", "four"))).SenderSequence);

        // The next start finds nothing to rebuild; the new entry was merged into the rebuilt tables on close.
        await temp.ReopenAsync();
        Assert.Equal(
            ["index log_by_owner", "index submits_by_sender", "table log", "table submits"],
            HistorySchema(temp.Path));
        Assert.Equal(["one", "two", "three", "four"], (await temp.Store.ReadLogAsync("bob", 0, 10)).Select(e => e.Text));
        Assert.Equal(AppendStatus.Duplicate, (await temp.Store.AppendAsync(first)).Status);
        using var connection = TempStore.Connect(temp.Path);
        using var version = connection.CreateCommand();
        version.CommandText = "SELECT value FROM meta WHERE key = 'schema'";
        Assert.Equal("5", version.ExecuteScalar());
    }

    [Fact]
    public async Task AppendAsync_MergeFailsInTheHistoryFile_EntriesStayReadableAndTheMergeIsTriedAgain()
    {
        await using var temp = new TempStore(stagedEntries: 8, stagedPartitions: 1);
        await temp.CreateUsersAsync("alice", "bob");

        // A trigger in the history file refuses the row of one message, so every merge that meets it fails.
        await temp.ReopenAsync(path => ExecuteOnHistory(path,
            "CREATE TRIGGER history.refuse_poison BEFORE INSERT ON log WHEN NEW.body = 'poison' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"));
        var poison = new Submission("alice", MessageId.NewRandom(), "bob", "poison");
        Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(poison)).Status);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"))).Status);
        }

        await WaitUntil(() => temp.Store.MergesFailed > 0, "a merge should have been tried and failed");
        Assert.Equal(0, temp.Store.MergesCompleted);

        // A merge that keeps failing does not hold the writer: past the bound (3 x 8 entries beside a merge), appends
        // are still acknowledged, into the partition's other slot.
        for (var i = 10; i < 30; i++)
        {
            var result = await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}")).WaitAsync(Patience);
            Assert.Equal(AppendStatus.Stored, result.Status);
        }

        string[] texts = ["poison", .. Enumerable.Range(0, 30).Select(i => $"m{i}")];
        Assert.Equal(texts, (await temp.Store.ReadLogAsync("bob", 0, 100)).Select(e => e.Text));
        Assert.Equal(AppendStatus.Duplicate, (await temp.Store.AppendAsync(poison)).Status);
        Assert.Equal(62, TempStore.CountRows(temp.Path, "staged_log"));

        // The cause goes away: a later attempt merges everything (one more append starts it).
        ExecuteOnHistory(temp.Path, "DROP TRIGGER history.refuse_poison");
        Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "after"))).Status);
        await WaitUntil(async () =>
        {
            if (temp.Store.MergesCompleted == 0)
            {
                await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "alice", "nudge")); // a note to self
            }

            return temp.Store.MergesCompleted > 0;
        }, "the merge should be tried again and succeed");
        Assert.Equal([.. texts, "after"], (await temp.Store.ReadLogAsync("bob", 0, 100)).Select(e => e.Text));
        Assert.Equal(AppendStatus.Duplicate, (await temp.Store.AppendAsync(poison)).Status);
        using var connection = TempStore.Connect(temp.Path);
        using var poisonRows = connection.CreateCommand();
        poisonRows.CommandText = "SELECT COUNT(*) FROM history.log WHERE body = 'poison'";
        Assert.Equal(2L, (long)poisonRows.ExecuteScalar()!); // bob's entry and alice's copy, merged at last
    }

    /// <summary>
    /// A crash while a merge is held up: the rows it was moving are in one slot of the partition's staged tables and
    /// the appends made beside it in the other. The next start merges both, and every entry is there once.
    /// </summary>
    [Fact]
    public async Task Open_CrashWhileAMergeWaitsAndAppendsWentToTheOtherSlot_EveryEntryOnce()
    {
        await using var temp = new TempStore(stagedEntries: 8, stagedPartitions: 1);
        await temp.CreateUsersAsync("alice", "bob");
        using var blocker = HoldHistoryWriteLock(temp.Path);

        // Four messages fill slot 0 (eight entries) and start its merge, which waits for the lock; five more go to slot 1.
        var sent = new List<(Submission Submission, ulong Sequence)>();
        for (var i = 0; i < 9; i++)
        {
            var submission = new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}");
            var result = await temp.Store.AppendAsync(submission);
            Assert.Equal(AppendStatus.Stored, result.Status);
            sent.Add((submission, result.SenderSequence));
        }

        Assert.Equal(18, TempStore.CountRows(temp.Path, "staged_log"));
        Assert.Equal(10, TempStore.CountRows(temp.Path, StagedPartitions.LogTable(0, 1)));
        using var copy = new TempDirectory();
        var crashed = copy.Combine("crashed.db");
        TempStore.CopyFiles(temp.Path, crashed);
        Execute(blocker, "ROLLBACK");

        await using var reopened = SqliteChatStore.Open(new SqliteStoreOptions(crashed) { StagedEntries = 8, StagedPartitions = 1 });
        Assert.Equal(Enumerable.Range(0, 9).Select(i => $"m{i}"), (await reopened.ReadLogAsync("bob", 0, 100)).Select(e => e.Text));
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (ulong)i), (await reopened.ReadLogAsync("alice", 0, 100)).Select(e => e.Sequence));
        Assert.Equal(0, TempStore.CountRows(crashed, "staged_log"));
        Assert.Equal(0, TempStore.CountRows(crashed, "staged_submits"));
        Assert.Equal(18, TempStore.CountRows(crashed, "log"));
        foreach (var (submission, sequence) in new[] { sent[0], sent[8] })
        {
            var again = await reopened.AppendAsync(submission);
            Assert.Equal((AppendStatus.Duplicate, sequence), (again.Status, again.SenderSequence));
        }
    }

    [Fact]
    public async Task AppendAsync_MergeHeldUpInTheHistoryFile_WriterWaitsAtTheBoundThenEverythingLands()
    {
        // 8 entries a partition, one partition, the default bound of four times that.
        await using var temp = new TempStore(stagedEntries: 8, stagedPartitions: 1);
        await temp.CreateUsersAsync("alice", "bob");

        // Another connection holds the history file's write lock (a slow disk would do the same), so the first merge
        // cannot finish; appends go on beside it until the partition holds its bound, then the writer waits.
        using var blocker = HoldHistoryWriteLock(temp.Path);

        // Four messages fill the partition (eight entries): the merge starts and waits for the lock. Forty more go on
        // beside it (a check after each batch), past the bound of 3 x 8 entries not set aside, so the writer waits.
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"))).Status);
        }

        var beside = Enumerable.Range(4, 40).Select(i => temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"))).ToList();
        await WaitUntil(() => temp.Store.MergeWaits > 0, "the writer should wait for the merge once the partition is full");

        // The writer acknowledges a batch before it checks the bound, so what is acknowledged now is what is staged;
        // the rest, and anything sent from now on, waits until the merge can finish.
        var held = Enumerable.Range(44, 5).Select(i => temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"))).ToList();
        var acknowledged = beside.Count(append => append.IsCompleted);
        Assert.Equal(2 * (4 + acknowledged), TempStore.CountRows(temp.Path, "staged_log"));
        Assert.True(2 * acknowledged >= 24, $"the writer waited after {acknowledged} messages beside the merge, below the bound");
        Assert.All(held, append => Assert.False(append.IsCompleted));

        Execute(blocker, "ROLLBACK");

        var results = await Task.WhenAll(beside.Concat(held)).WaitAsync(Patience);
        Assert.All(results, result => Assert.Equal(AppendStatus.Stored, result.Status));
        Assert.Equal(Enumerable.Range(0, 49).Select(i => $"m{i}"), (await temp.Store.ReadLogAsync("bob", 0, 100)).Select(e => e.Text).OrderBy(t => int.Parse(t[1..], System.Globalization.CultureInfo.InvariantCulture)));
        await WaitUntil(() => temp.Store.MergesCompleted > 0, "the held-up merge should finish");
    }

    /// <summary>A second connection that holds the history file's write lock (as a slow disk would hold up merges) until its ROLLBACK.</summary>
    private static SqliteConnection HoldHistoryWriteLock(string path)
    {
        var blocker = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = new SqliteStoreOptions(path).HistoryPath, Pooling = false }.ToString());
        blocker.Open();
        Execute(blocker, "BEGIN IMMEDIATE");
        return blocker;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The history file's tables and indexes, as "type name", none of them <c>WITHOUT ROWID</c> (asserted).</summary>
    private static List<string> HistorySchema(string path)
    {
        using var connection = TempStore.Connect(path);
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT type, name, sql FROM history.sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name";
        using var reader = query.ExecuteReader();
        var objects = new List<string>();
        while (reader.Read())
        {
            Assert.DoesNotContain("WITHOUT ROWID", reader.GetString(2), StringComparison.OrdinalIgnoreCase);
            objects.Add($"{reader.GetString(0)} {reader.GetString(1)}");
        }

        return objects;
    }

    private static void ExecuteOnHistory(string path, string sql)
    {
        using var connection = TempStore.Connect(path);
        Execute(connection, sql);
    }

    private static Task WaitUntil(Func<bool> condition, string because) => WaitUntil(() => Task.FromResult(condition()), because);

    private static async Task WaitUntil(Func<Task<bool>> condition, string because)
    {
        using var deadline = new CancellationTokenSource(Patience);
        while (!await condition())
        {
            Assert.False(deadline.IsCancellationRequested, because);
            await Task.Delay(20);
        }
    }
}
