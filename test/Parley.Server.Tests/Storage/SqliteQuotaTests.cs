using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;

namespace Parley.Server.Tests.Storage;

/// <summary>security.md 13: a recipient's unacknowledged backlog is capped, explicitly and without eviction.</summary>
public sealed class SqliteQuotaTests
{
    private static readonly StoreLimits FiveUnacknowledged = new() { MaxUnacknowledgedPerUser = 5 };

    [Trait("Security", "13")]
    [Fact]
    public async Task AppendAsync_PastTheQuota_QueueFullAndLogUnchanged()
    {
        await using var temp = new TempStore(FiveUnacknowledged);
        await temp.CreateUsersAsync("alice", "bob");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"))).Status);
        }

        var before = await temp.Store.ReadLogAsync("bob", 0, 100);
        var sixth = await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "one too many"));

        Assert.Equal(AppendStatus.QueueFull, sixth.Status);
        Assert.Equal(before, await temp.Store.ReadLogAsync("bob", 0, 100));
        Assert.Equal(5UL, await temp.Store.GetHeadAsync("bob"));
        Assert.Equal(5, (await temp.Store.ReadLogAsync("alice", 0, 100)).Count);
    }

    [Trait("Security", "13")]
    [Fact]
    public async Task AppendAsync_AfterRecipientDeviceAcknowledges_AcceptedUpToTheQuotaAgain()
    {
        await using var temp = new TempStore(FiveUnacknowledged);
        await temp.CreateUsersAsync("alice", "bob");
        for (var i = 0; i < 5; i++)
        {
            await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"));
        }

        var refusedId = MessageId.NewRandom();
        Assert.Equal(AppendStatus.QueueFull, (await temp.Store.AppendAsync(new Submission("alice", refusedId, "bob", "wait"))).Status);

        await temp.Store.SaveCursorAsync("bob", "phone", 3);

        // The refused id was not remembered: its retry is stored as new. Then two more fit (8 - 3 = 5), the next does not.
        Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", refusedId, "bob", "wait"))).Status);
        Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "m6"))).Status);
        Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "m7"))).Status);
        Assert.Equal(AppendStatus.QueueFull, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "m8"))).Status);
        Assert.Equal(8UL, await temp.Store.GetHeadAsync("bob"));
    }

    [Trait("Security", "13")]
    [Fact]
    public async Task AppendAsync_QuotaSurvivesReopen_QueueFull()
    {
        await using var temp = new TempStore(FiveUnacknowledged);
        await temp.CreateUsersAsync("alice", "bob");
        for (var i = 0; i < 5; i++)
        {
            await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"));
        }

        await temp.ReopenAsync();

        Assert.Equal(AppendStatus.QueueFull, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "x"))).Status);
    }
}
