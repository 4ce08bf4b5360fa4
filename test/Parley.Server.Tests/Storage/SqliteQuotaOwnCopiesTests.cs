using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;

namespace Parley.Server.Tests.Storage;

/// <summary>
/// security.md 13 is a quota on a recipient's offline queue: messages waiting for them. A user's copies of their own
/// sent messages are not waiting for anyone and should not make the user unreachable.
/// </summary>
public sealed class SqliteQuotaOwnCopiesTests
{
    [Trait("Security", "13")]
    [Fact]
    public async Task AppendAsync_RecipientOnlySentMessages_NotQueueFull()
    {
        await using var temp = new TempStore(new StoreLimits { MaxUnacknowledgedPerUser = 5 });
        await temp.CreateUsersAsync("alice", "bob", "carol");
        for (var i = 0; i < 5; i++)
        {
            await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"));
        }

        // alice has nothing unread: every entry of her log is a message she wrote herself.
        var toAlice = await temp.Store.AppendAsync(new Submission("carol", MessageId.NewRandom(), "alice", "hi alice"));

        Assert.Equal(AppendStatus.Stored, toAlice.Status);
    }
}
