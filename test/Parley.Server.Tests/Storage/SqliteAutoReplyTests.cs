using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;

namespace Parley.Server.Tests.Storage;

/// <summary>The built-in echo account: its reply is stored with the message, in the sender's log only.</summary>
public sealed class SqliteAutoReplyTests
{
    [Fact]
    public async Task AppendAsync_WithAutoReply_SenderCopyAndReplyInSenderLogNoneInBotLog()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "echo");
        var committed = new List<IReadOnlyList<LogEntry>>();
        temp.Store.Committed = entries =>
        {
            lock (committed)
            {
                committed.Add([.. entries]);
            }
        };
        var id = MessageId.NewRandom();

        var result = await temp.Store.AppendAsync(new Submission("alice", id, "echo", "hello", AutoReply: "HELLO"));

        Assert.Equal(AppendStatus.Stored, result.Status);
        var log = await temp.Store.ReadLogAsync("alice", 0, 100);
        Assert.Equal(2, log.Count);
        Assert.Equal((result.SenderSequence, id, "alice", "echo", "hello"), (log[0].Sequence, log[0].Id, log[0].From, log[0].To, log[0].Text));
        Assert.Equal((result.SenderSequence + 1, "echo", "alice", "HELLO"), (log[1].Sequence, log[1].From, log[1].To, log[1].Text));
        Assert.NotEqual(id, log[1].Id);
        Assert.False(log[1].Id.IsNone);
        Assert.Empty(await temp.Store.ReadLogAsync("echo", 0, 100));
        Assert.Equal(0UL, await temp.Store.GetHeadAsync("echo"));

        // Message and reply were committed together.
        lock (committed)
        {
            Assert.Contains(committed, batch => batch.Select(e => e.Sequence).SequenceEqual([log[0].Sequence, log[1].Sequence]));
        }
    }

    [Fact]
    public async Task AppendAsync_AutoReplyRetried_NoSecondReply()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "echo");
        var id = MessageId.NewRandom();
        var first = await temp.Store.AppendAsync(new Submission("alice", id, "echo", "once", AutoReply: "ONCE"));

        var retry = await temp.Store.AppendAsync(new Submission("alice", id, "echo", "once", AutoReply: "ONCE"));

        Assert.Equal(AppendStatus.Duplicate, retry.Status);
        Assert.Equal(first.SenderSequence, retry.SenderSequence);
        Assert.Equal(["once", "ONCE"], (await temp.Store.ReadLogAsync("alice", 0, 100)).Select(e => e.Text));
    }
}
