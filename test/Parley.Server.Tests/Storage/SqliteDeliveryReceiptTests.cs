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
