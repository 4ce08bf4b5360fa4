using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;

namespace Parley.Server.Tests.Storage;

/// <summary>The store reports receipts when a user's most advanced cursor passes messages from others.</summary>
public sealed class SqliteDeliveryReceiptTests
{
    [Fact]
    public async Task SaveCursorAsync_PastMessagesFromTwoSenders_OneReceiptPerSenderWithItsOwnSequence()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob", "carol");
        var receipts = new List<DeliveryReceipt>();
        temp.Store.Delivered = batch => { lock (receipts) { receipts.AddRange(batch); } };
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "a1"));
        await temp.Store.AppendAsync(new Submission("carol", MessageId.NewRandom(), "bob", "c1"));
        var lastFromAlice = await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "a2"));
        await temp.Store.AppendAsync(new Submission("bob", MessageId.NewRandom(), "alice", "own message, no receipt"));

        await temp.Store.SaveCursorAsync("bob", "phone", 4);

        lock (receipts)
        {
            Assert.Equal(
                [new DeliveryReceipt("alice", "bob", lastFromAlice.SenderSequence), new DeliveryReceipt("carol", "bob", 1)],
                receipts.OrderBy(r => r.Sender, StringComparer.Ordinal));
        }
    }

    /// <summary>
    /// Rows written before the log had <c>sender_seq</c> (NULL there) still get their receipts, from the dedupe table;
    /// rows written since carry the sender's sequence themselves. Both kinds in one acknowledged range.
    /// </summary>
    [Fact]
    public async Task SaveCursorAsync_RowsFromBeforeSenderSeqAndAfter_ReceiptsForBoth()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob", "carol");
        var oldFromAlice = await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "old"));
        await temp.ReopenAsync(path => Execute(path, "UPDATE log SET sender_seq = NULL")); // the close merged it into log
        var newFromCarol = await temp.Store.AppendAsync(new Submission("carol", MessageId.NewRandom(), "bob", "new"));
        await temp.ReopenAsync(); // nothing remembered in memory: both come from the log table
        var receipts = new List<DeliveryReceipt>();
        temp.Store.Delivered = batch => { lock (receipts) { receipts.AddRange(batch); } };

        await temp.Store.SaveCursorAsync("bob", "phone", 2);

        lock (receipts)
        {
            Assert.Equal(
                [new DeliveryReceipt("alice", "bob", oldFromAlice.SenderSequence), new DeliveryReceipt("carol", "bob", newFromCarol.SenderSequence)],
                receipts.OrderBy(r => r.Sender, StringComparer.Ordinal));
        }
    }

    /// <summary>
    /// A store written before schemas 2, 3 and 4 (one file, the log in it), with a staged row a crash left behind:
    /// opening it adds the file columns and <c>sender_seq</c> to the log and <c>sender_seq</c> to the staged table,
    /// moves the log into the history file, merges the staged row, and its receipt still comes.
    /// </summary>
    [Fact]
    public async Task Open_StoreFromBeforeSenderSeqWithAStagedRow_MigratesMergesAndReceipts()
    {
        await using var temp = new TempStore(stagedPartitions: 1);
        await temp.CreateUsersAsync("alice", "bob");
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "merged"));
        var staged = await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "staged"));

        // The clean close merged both; rebuild the file of schema 1 a crash would have left: the log and submits in
        // the main file, the second message staged, no history file.
        await temp.ReopenAsync(path =>
        {
            Execute(path, """
                CREATE TABLE main.log(owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL,
                    recipient TEXT NOT NULL, time INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY(owner, seq)) WITHOUT ROWID;
                CREATE TABLE main.submits(sender TEXT NOT NULL, id BLOB NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL,
                    time INTEGER NOT NULL, PRIMARY KEY(sender, id)) WITHOUT ROWID;
                INSERT INTO main.log SELECT owner, seq, id, sender, recipient, time, body FROM history.log WHERE NOT (owner = 'bob' AND seq = 2);
                INSERT INTO main.submits SELECT sender, id, digest, seq, time FROM history.submits WHERE NOT (sender = 'alice' AND seq = 2);
                INSERT INTO staged_log(owner, seq, id, sender, recipient, time, body)
                    SELECT owner, seq, id, sender, recipient, time, body FROM history.log WHERE owner = 'bob' AND seq = 2;
                INSERT INTO staged_submits SELECT sender, id, digest, seq, time FROM history.submits WHERE sender = 'alice' AND seq = 2;
                ALTER TABLE staged_log DROP COLUMN sender_seq;
                UPDATE meta SET value = '1' WHERE key = 'schema';
                """);
            TempStore.DeleteHistoryFile(path);
        });

        Assert.Equal(0, TempStore.CountRows(temp.Path, "staged_log"));
        Assert.False(MainHasTable(temp.Path, "log"), "the log should have moved to the history file");
        Assert.Equal(4, TempStore.CountRows(temp.Path, "log")); // alice's two copies and bob's two, the staged one merged
        Assert.Equal(["merged", "staged"], (await temp.Store.ReadLogAsync("bob", 0, 10)).Select(e => e.Text));
        Assert.Equal("5", Scalar(temp.Path, "SELECT value FROM meta WHERE key = 'schema'"));
        var receipts = new List<DeliveryReceipt>();
        temp.Store.Delivered = batch => { lock (receipts) { receipts.AddRange(batch); } };
        await temp.Store.SaveCursorAsync("bob", "phone", 2);
        lock (receipts)
        {
            Assert.Equal([new DeliveryReceipt("alice", "bob", staged.SenderSequence)], receipts);
        }
    }

    private static bool MainHasTable(string path, string table) =>
        Scalar(path, $"SELECT COUNT(*) FROM main.sqlite_schema WHERE type = 'table' AND name = '{table}'") == "1";

    private static void Execute(string path, string sql)
    {
        using var connection = TempStore.Connect(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string? Scalar(string path, string sql)
    {
        using var connection = TempStore.Connect(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()?.ToString();
    }

    [Fact]
    public async Task SaveCursorAsync_OtherDeviceAlreadyPast_NoReceipt()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob");
        var receipts = new List<DeliveryReceipt>();
        temp.Store.Delivered = batch => { lock (receipts) { receipts.AddRange(batch); } };
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "a1"));
        await temp.Store.SaveCursorAsync("bob", "phone", 1);

        await temp.Store.SaveCursorAsync("bob", "laptop", 1);

        lock (receipts)
        {
            Assert.Single(receipts);
        }
    }
}
