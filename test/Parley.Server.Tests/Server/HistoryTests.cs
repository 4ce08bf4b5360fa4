using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>HISTORY: scrolling back through the user's log, page by page, per conversation, within one frame.</summary>
public sealed class HistoryTests
{
    [Fact]
    public async Task History_PagedBackwards_NewestBelowBeforeOldestFirstThenEmptyAtTheStart()
    {
        await using var server = await TestServer.StartAsync(new ServerOptions { RateLimitFramesPerSecond = 0 });
        var (alice, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var (bob, bobAuth) = await server.RegisterAsync(UniqueNames.Next("bob"));
        for (var i = 0; i < 25; i++)
        {
            await alice.SendAsync(MessageId.NewRandom(), bobAuth.User, $"m{i}").WaitAsync(Events.Timeout);
        }

        var last = await bob.HistoryAsync(0, 10).WaitAsync(Events.Timeout);
        var before = await bob.HistoryAsync(last[0].Sequence, 10).WaitAsync(Events.Timeout);
        var first = await bob.HistoryAsync(before[0].Sequence, 10).WaitAsync(Events.Timeout);
        var none = await bob.HistoryAsync(first[0].Sequence, 10).WaitAsync(Events.Timeout);

        Assert.Equal(Enumerable.Range(15, 10).Select(i => $"m{i}"), last.Select(m => m.Text));
        Assert.Equal(Enumerable.Range(5, 10).Select(i => $"m{i}"), before.Select(m => m.Text));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"m{i}"), first.Select(m => m.Text));
        Assert.Empty(none);
        Assert.False(bob.Completion.IsCompleted);
    }

    [Fact]
    public async Task History_WithPeer_OnlyThatConversationBothDirections()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, aliceAuth) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var (bob, bobAuth) = await server.RegisterAsync(UniqueNames.Next("bob"));
        var (carol, _) = await server.RegisterAsync(UniqueNames.Next("carol"));
        await alice.SendAsync(MessageId.NewRandom(), bobAuth.User, "from alice").WaitAsync(Events.Timeout);
        await carol.SendAsync(MessageId.NewRandom(), bobAuth.User, "from carol").WaitAsync(Events.Timeout);
        await bob.SendAsync(MessageId.NewRandom(), aliceAuth.User, "to alice").WaitAsync(Events.Timeout);

        var withAlice = await bob.HistoryAsync(0, 100, aliceAuth.User.ToUpperInvariant()).WaitAsync(Events.Timeout);
        var badName = await bob.HistoryAsync(0, 100, "not a name!").WaitAsync(Events.Timeout);

        Assert.Equal(["from alice", "to alice"], withAlice.Select(m => m.Text));
        Assert.Empty(badName);
    }

    [Fact]
    public async Task History_PageLargerThanOneFrame_CutToFitNewestKept()
    {
        await using var server = await TestServer.StartAsync(new ServerOptions { RateLimitFramesPerSecond = 0, RateLimitBytesPerSecond = 0 });
        var (alice, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var (bob, bobAuth) = await server.RegisterAsync(UniqueNames.Next("bob"));
        var big = new string('x', 60_000);
        for (var i = 0; i < 30; i++)
        {
            await alice.SendAsync(MessageId.NewRandom(), bobAuth.User, $"{i:00}{big}").WaitAsync(Events.Timeout);
        }

        var page = await bob.HistoryAsync(0, 30).WaitAsync(Events.Timeout);

        Assert.InRange(page.Count, 10, 17); // 1 MiB holds 17 texts of 60 KB
        Assert.StartsWith("29", page[^1].Text, StringComparison.Ordinal);
        Assert.True(page.Zip(page.Skip(1)).All(p => p.First.Sequence + 1 == p.Second.Sequence));
    }
}
