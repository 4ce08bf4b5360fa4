using Parley.Protocol;
using Parley.Storage;
using Parley.Storage.Nats;

namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// Log and history reads of <see cref="NatsChatStore"/> past the first few entries come in consumer batches, not one
/// get per entry: these tests check that the batched path returns exactly what the one-by-one path did — entries
/// after the cursor, in order, at most max, across the gaps other users' messages leave in a user's sequences —
/// and that history keeps its bounds and peer filter. Real nats-server, its own namespace per test.
/// </summary>
public sealed class NatsBatchedReadTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private const int PerSender = 700;

    /// <summary>Bob's log: alice and carol alternate (so each copy in bob's log sits between copies in theirs: gaps).</summary>
    private async Task<(NatsChatStore Store, List<(string From, MessageId Id)> Sent)> OpenWithLogAsync()
    {
        var store = await NatsChatStore.OpenAsync(new NatsStoreOptions { Urls = [nats.Server.Url], Namespace = NatsFixture.NewNamespace() });
        foreach (var user in new[] { "alice", "bob", "carol" })
        {
            Assert.True(await store.CreateUserAsync(user, "hash"));
        }

        var sent = new List<(string, MessageId)>();
        for (var i = 0; i < PerSender; i++)
        {
            foreach (var from in new[] { "alice", "carol" })
            {
                var id = MessageId.NewRandom();
                Assert.Equal(AppendStatus.Stored, (await store.AppendAsync(new Submission(from, id, "bob", $"{from} {i}"))).Status);
                sent.Add((from, id));
            }
        }

        return (store, sent);
    }

    [Fact]
    public async Task ReadLog_LongLogWithGaps_AllInOrder_BoundsAndCursorsExact()
    {
        var (store, sent) = await OpenWithLogAsync();
        await using var _ = store;

        var all = await store.ReadLogAsync("bob", 0, 10_000);
        Assert.Equal(sent, all.Select(e => (e.From, e.Id)));
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Sequence + 1 < p.Second.Sequence), "copies in bob's log have gaps between them");
        Assert.Equal(all[^1].Sequence, await store.GetHeadAsync("bob"));

        // Bounds: exactly max, from right after the cursor, for cursors on an entry and inside a gap.
        foreach (var (start, max) in new[] { (0, 300), (1, 1), (2, 3), (517, 256), (1000, 1000), (1398, 5) })
        {
            foreach (var after in new[] { all[start].Sequence, all[start].Sequence + 1 })
            {
                var read = await store.ReadLogAsync("bob", after, max);
                var expected = all.Where(e => e.Sequence > after).Take(max).ToList();
                Assert.Equal(expected.Select(e => (e.Sequence, e.Id)), read.Select(e => (e.Sequence, e.Id)));
            }
        }

        Assert.Empty(await store.ReadLogAsync("bob", all[^1].Sequence, 100));
        Assert.Empty(await store.ReadLogAsync("nobody", 0, 100));

        // Paging through with a session's batch size gives the whole log once.
        var paged = new List<LogEntry>();
        var cursor = 0UL;
        while (await store.ReadLogAsync("bob", cursor, 256) is { Count: > 0 } page)
        {
            paged.AddRange(page);
            cursor = page[^1].Sequence;
        }

        Assert.Equal(all.Select(e => e.Sequence), paged.Select(e => e.Sequence));

        // The sender's own log is read the same way.
        var alice = await store.ReadLogAsync("alice", 0, 10_000);
        Assert.Equal(sent.Where(s => s.From == "alice").Select(s => s.Id), alice.Select(e => e.Id));
    }

    [Fact]
    public async Task ReadHistory_LongLog_NewestBeforeBound_PeerFilter_InOrder()
    {
        var (store, sent) = await OpenWithLogAsync();
        await using var _ = store;
        var all = await store.ReadLogAsync("bob", 0, 10_000);

        var newest = await store.ReadHistoryAsync("bob", 0, 50, null);
        Assert.Equal(all.TakeLast(50).Select(e => e.Sequence), newest.Select(e => e.Sequence));

        var before = all[1100].Sequence;
        var page = await store.ReadHistoryAsync("bob", before, 100, null);
        Assert.Equal(all.Take(1100).TakeLast(100).Select(e => e.Sequence), page.Select(e => e.Sequence));

        var fromCarol = await store.ReadHistoryAsync("bob", before, 30, "carol");
        Assert.Equal(all.Take(1100).Where(e => e.From == "carol").TakeLast(30).Select(e => e.Id), fromCarol.Select(e => e.Id));

        // Alice's log holds only her own copies: with carol as the peer it is empty, with bob it is all of them.
        Assert.Empty(await store.ReadHistoryAsync("alice", 0, 10, "carol"));
        Assert.Equal(sent.Where(s => s.From == "alice").TakeLast(10).Select(s => s.Id),
            (await store.ReadHistoryAsync("alice", 0, 10, "bob")).Select(e => e.Id));
        Assert.Empty(await store.ReadHistoryAsync("bob", all[0].Sequence, 10, null));
        Assert.Empty(await store.ReadHistoryAsync("bob", 0, 0, null));
    }
}
