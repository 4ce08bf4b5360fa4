using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;
using Parley.Storage.Sqlite;

namespace Parley.Server.Tests.Storage;

/// <summary>
/// Appends go to the staged tables and are merged into the indexed log in batches (StagedMerge). With a threshold of
/// a few entries every few appends merge, so each behaviour is checked across the boundary between the two.
/// </summary>
public sealed class SqliteStagedLogTests
{
    [Fact]
    public async Task ReadLogAsync_EntriesPartlyMergedPartlyStaged_AllInOrderOnce()
    {
        await using var temp = new TempStore(stagedEntries: 3);
        await temp.CreateUsersAsync("alice", "bob");
        for (var i = 1; i <= 10; i++)
        {
            Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"))).Status);
        }

        var all = await temp.Store.ReadLogAsync("bob", 0, 100);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"m{i}"), all.Select(e => e.Text));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (ulong)i), all.Select(e => e.Sequence));

        var page = await temp.Store.ReadLogAsync("bob", 4, 3);
        Assert.Equal(["m5", "m6", "m7"], page.Select(e => e.Text));

        var history = await temp.Store.ReadHistoryAsync("bob", 0, 4, null);
        Assert.Equal(["m7", "m8", "m9", "m10"], history.Select(e => e.Text));
        Assert.Equal(10UL, await temp.Store.GetHeadAsync("bob"));
    }

    [Fact]
    public async Task ReadHistoryAsync_PeerFilterAcrossMerge_OnlyThatConversation()
    {
        await using var temp = new TempStore(stagedEntries: 4);
        await temp.CreateUsersAsync("alice", "bob", "carol");
        for (var i = 1; i <= 6; i++)
        {
            await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"a{i}"));
            await temp.Store.AppendAsync(new Submission("carol", MessageId.NewRandom(), "bob", $"c{i}"));
        }

        var fromCarol = await temp.Store.ReadHistoryAsync("bob", 0, 100, "carol");
        Assert.Equal(Enumerable.Range(1, 6).Select(i => $"c{i}"), fromCarol.Select(e => e.Text));
    }

    [Fact]
    public async Task AppendAsync_RetryAfterItsEntryWasMerged_DuplicateWithTheFirstSequence()
    {
        await using var temp = new TempStore(stagedEntries: 2);
        await temp.CreateUsersAsync("alice", "bob");
        var id = MessageId.NewRandom();
        var first = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "hello"));
        for (var i = 0; i < 5; i++)
        {
            await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "filler"));
        }

        var retry = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "hello"));
        var reused = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "something else"));

        Assert.Equal(new AppendResult(AppendStatus.Duplicate, first.SenderSequence, first.Time), retry);
        Assert.Equal(AppendStatus.IdReused, reused.Status);
        Assert.Equal(6, (await temp.Store.ReadLogAsync("bob", 0, 100)).Count);
    }

    /// <summary>
    /// Ids that only grow (as time-ordered ids from one device do) let the store skip the dedupe lookup for a new id
    /// above every merged one. A retry of the newest merged id, of the oldest, and after a restart must still be
    /// found: the highest merged id is raised at each merge and reloaded after a restart.
    /// </summary>
    [Fact]
    public async Task AppendAsync_GrowingIds_RetriesOfMergedOnesStillFound()
    {
        await using var temp = new TempStore(stagedEntries: 2);
        await temp.CreateUsersAsync("alice", "bob");
        var ids = Enumerable.Range(1, 4).Select(GrowingId).ToArray();
        var results = new List<AppendResult>();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            results.Add(await temp.Store.AppendAsync(new Submission("alice", id, "bob", $"m{i}")));
        }

        var retry = await temp.Store.AppendAsync(new Submission("alice", ids[3], "bob", "m3"));
        Assert.Equal(new AppendResult(AppendStatus.Duplicate, results[3].SenderSequence, results[3].Time), retry);
        Assert.Equal(AppendStatus.IdReused, (await temp.Store.AppendAsync(new Submission("alice", ids[3], "bob", "other text"))).Status);
        Assert.Equal(AppendStatus.Duplicate, (await temp.Store.AppendAsync(new Submission("alice", ids[0], "bob", "m0"))).Status);

        await temp.ReopenAsync();
        Assert.Equal(AppendStatus.Duplicate, (await temp.Store.AppendAsync(new Submission("alice", ids[3], "bob", "m3"))).Status);
        Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", GrowingId(5), "bob", "m4"))).Status);
        Assert.Equal(5, (await temp.Store.ReadLogAsync("bob", 0, 100)).Count);
    }

    [Fact]
    public async Task AppendAsync_RetryWhileStillStaged_Duplicate()
    {
        await using var temp = new TempStore(stagedEntries: 1000);
        await temp.CreateUsersAsync("alice", "bob");
        var id = MessageId.NewRandom();
        var first = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "hello"));

        var retry = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "hello"));

        Assert.Equal(AppendStatus.Duplicate, retry.Status);
        Assert.Equal(first.SenderSequence, retry.SenderSequence);
        Assert.Single(await temp.Store.ReadLogAsync("bob", 0, 100));
    }

    /// <summary>
    /// Receipts come from three places: the staged entries, the remembered sources of the last few merges
    /// (<c>RecentlyMerged</c>, four merges' worth), and a join of the log and dedupe tables for anything older. Each
    /// case here reaches one of them for most of the range; all must name the same newest message per sender.
    /// </summary>
    [Theory]
    [InlineData(1000, 4)] // all staged
    [InlineData(3, 4)] // merged a little earlier: remembered
    [InlineData(2, 30)] // merged long before: older than what is remembered, so the join
    public async Task SaveCursorAsync_RangeOfAnyAge_ReceiptNamesTheNewestPerSender(int stagedEntries, int fromAlice)
    {
        // One partition, so that what is remembered stays small enough for the third case to need the join.
        await using var temp = new TempStore(stagedEntries: stagedEntries, stagedPartitions: 1);
        await temp.CreateUsersAsync("alice", "bob", "carol");
        var receipts = new List<DeliveryReceipt>();
        temp.Store.Delivered = batch => { lock (receipts) { receipts.AddRange(batch); } };
        await temp.Store.AppendAsync(new Submission("carol", MessageId.NewRandom(), "bob", "c1"));
        AppendResult lastFromAlice = default;
        for (var i = 0; i < fromAlice; i++)
        {
            lastFromAlice = await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"a{i}"));
        }

        await temp.Store.SaveCursorAsync("bob", "phone", (ulong)(1 + fromAlice));

        lock (receipts)
        {
            Assert.Equal(
                [new DeliveryReceipt("alice", "bob", lastFromAlice.SenderSequence), new DeliveryReceipt("carol", "bob", 1)],
                receipts.OrderBy(r => r.Sender, StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task SaveCursorAsync_AfterRestart_MergedRangeStillGetsItsReceipts()
    {
        await using var temp = new TempStore(stagedEntries: 3);
        await temp.CreateUsersAsync("alice", "bob");
        AppendResult last = default;
        for (var i = 0; i < 4; i++)
        {
            last = await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"));
        }

        await temp.ReopenAsync(); // nothing remembered: the shutdown merged everything, the join answers
        var receipts = new List<DeliveryReceipt>();
        temp.Store.Delivered = batch => { lock (receipts) { receipts.AddRange(batch); } };
        await temp.Store.SaveCursorAsync("bob", "phone", 4);

        lock (receipts)
        {
            Assert.Equal([new DeliveryReceipt("alice", "bob", last.SenderSequence)], receipts);
        }
    }

    [Fact]
    public async Task SaveCursorAsync_ManyAcksQueuedTogether_CursorAtTheHighestAndOneReceiptPerSender()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob");
        var receipts = new List<DeliveryReceipt>();
        temp.Store.Delivered = batch => { lock (receipts) { receipts.AddRange(batch); } };
        AppendResult last = default;
        for (var i = 0; i < 20; i++)
        {
            last = await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"));
        }

        // Queued without waiting, as a client's ACKs arrive: most land in one batch and become one cursor write.
        await Task.WhenAll(Enumerable.Range(1, 20).Reverse().Select(upTo => temp.Store.SaveCursorAsync("bob", "phone", (ulong)upTo)));

        Assert.Equal(20UL, await temp.Store.GetCursorAsync("bob", "phone"));
        lock (receipts)
        {
            Assert.Equal(last.SenderSequence, receipts.Where(r => r.Sender == "alice").Max(r => r.SenderSequence));
            Assert.All(receipts, r => Assert.Equal(("alice", "bob"), (r.Sender, r.Recipient)));
        }
    }

    [Fact]
    public async Task AppendAsync_QuotaCountedAcrossMergedAndStaged_SixthRefused()
    {
        await using var temp = new TempStore(new StoreLimits { MaxUnacknowledgedPerUser = 5 }, stagedEntries: 3);
        await temp.CreateUsersAsync("alice", "bob");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"))).Status);
        }

        Assert.Equal(AppendStatus.QueueFull, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "one too many"))).Status);
        await temp.Store.SaveCursorAsync("bob", "phone", 2);
        Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "room again"))).Status);
    }

    [Fact]
    public async Task Open_FileCopiedWhileEntriesWereStaged_RecoversThemAndContinuesTheSequence()
    {
        // A copy of the files taken while the store runs is what a crash leaves on disk: committed rows in the staged
        // tables, never merged.
        await using var temp = new TempStore(stagedEntries: 1000);
        await temp.CreateUsersAsync("alice", "bob");
        var id = MessageId.NewRandom();
        await temp.Store.AppendAsync(new Submission("alice", id, "bob", "first"));
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "second"));
        using var copy = new TempDirectory();
        var copied = copy.Combine("crashed.db");
        TempStore.CopyFiles(temp.Path, copied);
        Assert.True(TempStore.CountRows(copied, "staged_log") > 0, "the copy should hold staged rows");

        await using var reopened = SqliteChatStore.Open(new SqliteStoreOptions(copied) { StagedEntries = 1000 });

        Assert.Equal(["first", "second"], (await reopened.ReadLogAsync("bob", 0, 100)).Select(e => e.Text));
        Assert.Equal(0, TempStore.CountRows(copied, "staged_log"));
        Assert.Equal(AppendStatus.Duplicate, (await reopened.AppendAsync(new Submission("alice", id, "bob", "first"))).Status);
        var next = await reopened.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "third"));
        Assert.Equal(3UL, next.SenderSequence);
        Assert.Equal(3UL, (await reopened.ReadLogAsync("bob", 0, 100))[^1].Sequence);
    }

    [Fact]
    public async Task DisposeAsync_CleanShutdown_LeavesNothingStaged()
    {
        await using var temp = new TempStore(stagedEntries: 1000);
        await temp.CreateUsersAsync("alice", "bob");
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "hello"));
        Assert.Equal(2, TempStore.CountRows(temp.Path, "staged_log"));

        await temp.ReopenAsync();

        Assert.Equal(0, TempStore.CountRows(temp.Path, "staged_log"));
        Assert.Equal(0, TempStore.CountRows(temp.Path, "staged_submits"));
        Assert.Equal(2, TempStore.CountRows(temp.Path, "log"));
        Assert.Equal("hello", Assert.Single(await temp.Store.ReadLogAsync("bob", 0, 10)).Text);
    }

    [Fact]
    public async Task AppendAsync_MergesWritten_CheckpointThreadCopiesTheWalIntoTheFile()
    {
        // The merges write the history file. The merge connection's own automatic checkpoint waits for 16,000 WAL
        // pages, far more than this test writes: the file grows only if the checkpoint thread copies the WAL into it.
        await using var temp = new TempStore(stagedEntries: 16);
        await temp.CreateUsersAsync("alice", "bob");
        var history = new SqliteStoreOptions(temp.Path).HistoryPath;
        var before = new FileInfo(history).Length;
        for (var i = 0; i < 300; i++)
        {
            await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", new string('x', 200)));
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (new FileInfo(history).Length <= before + 100_000)
        {
            await Task.Delay(20, deadline.Token);
        }

        Assert.Equal(300, (await temp.Store.ReadLogAsync("bob", 0, 1000)).Count);
    }

    /// <summary>An id whose first byte is <paramref name="order"/>: byte order is creation order, as for time-ordered ids.</summary>
    private static MessageId GrowingId(int order)
    {
        var bytes = new byte[MessageId.Size];
        bytes[0] = (byte)order;
        bytes[^1] = 0x5a;
        return new MessageId(bytes);
    }
}
