using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;
using Parley.Storage.Sqlite;
using Parley.Storage.Sqlite.Internal;

namespace Parley.Server.Tests.Storage;

/// <summary>
/// The staged log split by owner (StagedPartitions): each partition merges alone, so one user's entries can be merged
/// while the submissions of the user who sent them are still staged in another partition.
/// </summary>
public sealed class SqliteStagedPartitionTests
{
    [Fact]
    public void Of_SameNameAlwaysTheSamePartition_SpreadOverAll()
    {
        var four = new StagedPartitions(4);
        var names = Enumerable.Range(0, 400).Select(i => $"user{i}").ToList();

        var partitions = names.Select(four.Of).ToList();

        Assert.Equal(partitions, names.Select(new StagedPartitions(4).Of));
        Assert.All(partitions, p => Assert.InRange(p, 0, 3));
        Assert.All(Enumerable.Range(0, 4), p => Assert.InRange(partitions.Count(x => x == p), 50, 150));
        Assert.All(names, name => Assert.Equal(0, new StagedPartitions(1).Of(name)));
        Assert.Equal(["staged_log", "staged_log_0_b", "staged_log_1", "staged_log_1_b"], new StagedPartitions(2).LogTables);
        Assert.Equal(["staged_submits", "staged_submits_0_b", "staged_submits_1", "staged_submits_1_b"], new StagedPartitions(2).SubmitTables);
    }

    [Fact]
    public async Task ReadLogAsync_OnePartitionMergedOthersStaged_EveryLogWholeAndInOrder()
    {
        var partitions = new StagedPartitions(2);
        const string alice = "alice";
        var bob = NotWith(partitions, "bob", alice);
        await using var temp = new TempStore(stagedEntries: 3, stagedPartitions: 2);
        await temp.CreateUsersAsync(alice, bob);

        for (var i = 1; i <= 7; i++)
        {
            await temp.Store.AppendAsync(new Submission(alice, MessageId.NewRandom(), bob, $"m{i}"));
        }

        Assert.Equal(Enumerable.Range(1, 7).Select(i => $"m{i}"), (await temp.Store.ReadLogAsync(bob, 0, 100)).Select(e => e.Text));
        Assert.Equal(Enumerable.Range(1, 7).Select(i => $"m{i}"), (await temp.Store.ReadLogAsync(alice, 0, 100)).Select(e => e.Text));
        Assert.Equal(7UL, await temp.Store.GetHeadAsync(bob));
    }

    [Fact]
    public async Task SaveCursorAsync_EntryMergedLongAgoWhileItsSubmissionIsStillStaged_ReceiptStillNamesIt()
    {
        // Two partitions, merged at 3 entries each; remembered merges hold 4 x 2 x 3 = 24 entries. Bob and the filler
        // pair share a partition, alice has the other one to herself.
        var partitions = new StagedPartitions(2);
        const string alice = "alice";
        var bob = NotWith(partitions, "bob", alice);
        var carol = NotWith(partitions, "carol", alice); // two partitions: not alice's is bob's
        var dave = NotWith(partitions, "dave", alice);
        await using var temp = new TempStore(stagedEntries: 3, stagedPartitions: 2);
        await temp.CreateUsersAsync(alice, bob, carol, dave);
        var receipts = new List<DeliveryReceipt>();
        temp.Store.Delivered = batch => { lock (receipts) { receipts.AddRange(batch); } };

        // One message: alice's partition holds 1 entry (her copy) and her submission, below its threshold.
        var sent = await temp.Store.AppendAsync(new Submission(alice, MessageId.NewRandom(), bob, "hello"));
        // Bob's partition merges (his entry goes into the log table) and keeps merging until that is forgotten.
        for (var i = 0; i < 30; i++)
        {
            await temp.Store.AppendAsync(new Submission(carol, MessageId.NewRandom(), dave, $"filler {i}"));
        }

        await temp.Store.SaveCursorAsync(bob, "phone", 1);

        lock (receipts)
        {
            Assert.Equal([new DeliveryReceipt(alice, bob, sent.SenderSequence)], receipts);
        }
    }

    [Fact]
    public async Task Open_CrashedFileOfMorePartitionsThanConfigured_MergesEveryStagedTable()
    {
        // Users spread over four partitions; the copy taken while they are staged is what a crash leaves.
        await using var temp = new TempStore(stagedEntries: 1000, stagedPartitions: 4);
        var users = Enumerable.Range(0, 12).Select(i => $"user{i}").ToArray();
        await temp.CreateUsersAsync(users);
        for (var i = 0; i < users.Length; i++)
        {
            await temp.Store.AppendAsync(new Submission(users[i], MessageId.NewRandom(), users[(i + 1) % users.Length], $"to {users[(i + 1) % users.Length]}"));
        }

        using var copy = new TempDirectory();
        var copied = copy.Combine("crashed.db");
        TempStore.CopyFiles(temp.Path, copied);
        Assert.True(new[] { 2, 3 }.All(k => TempStore.CountRows(copied, StagedPartitions.LogTable(k, 0)) > 0), "partitions 2 and 3 should hold staged rows");

        await using var reopened = SqliteChatStore.Open(new SqliteStoreOptions(copied) { StagedPartitions = 2 });

        foreach (var user in users)
        {
            Assert.Equal(2, (await reopened.ReadLogAsync(user, 0, 100)).Count); // one sent, one received
        }

        Assert.Equal(0, TempStore.CountRows(copied, "staged_log")); // every partition's tables, both slots
        Assert.Equal(0, TempStore.CountRows(copied, "staged_submits"));
    }

    /// <summary>The first of <c>prefix, prefix1, prefix2, …</c> whose partition is not <paramref name="other"/>'s.</summary>
    private static string NotWith(StagedPartitions partitions, string prefix, string other)
    {
        for (var i = 0; ; i++)
        {
            var name = i == 0 ? prefix : $"{prefix}{i}";
            if (partitions.Of(name) != partitions.Of(other))
            {
                return name;
            }
        }
    }
}
