using Parley.Protocol;
using Parley.Storage;
using Parley.Storage.Nats;

namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// One sender's appends are pipelined (handed in without waiting for the previous one, as the server does for a
/// connection's window of SENDs): they must still be stored in submission order in both logs, each recipient copy
/// must carry its sender copy's sequence, and duplicates / reused ids keep their answers. Real nats-server.
/// </summary>
public sealed class NatsPipelinedAppendTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    [Fact]
    public async Task Append_WindowOfOneSender_StoredInSubmissionOrderInBothLogs()
    {
        await using var store = await NatsChatStore.OpenAsync(new NatsStoreOptions { Urls = [nats.Server.Url], Namespace = NatsFixture.NewNamespace() });
        foreach (var user in new[] { "alice", "bob", "carol" })
        {
            Assert.True(await store.CreateUserAsync(user, "hash"));
        }

        // Alice sends 600 without waiting (to bob, carol, herself and the echo-style bot reply), carol interleaves.
        var ids = Enumerable.Range(0, 600).Select(_ => MessageId.NewRandom()).ToArray();
        var tasks = new List<Task<AppendResult>>();
        var carol = new List<Task<AppendResult>>();
        for (var i = 0; i < ids.Length; i++)
        {
            var to = (i % 10) switch { 0 => "carol", 1 => "alice", _ => "bob" };
            tasks.Add(store.AppendAsync(new Submission("alice", ids[i], to, $"m{i}", AutoReply: i % 50 == 7 ? "auto" : null)));
            if (i % 3 == 0)
            {
                carol.Add(store.AppendAsync(new Submission("carol", MessageId.NewRandom(), "bob", $"c{i}")));
            }
        }

        var results = await Task.WhenAll(tasks);
        await Task.WhenAll(carol);
        Assert.All(results, r => Assert.Equal(AppendStatus.Stored, r.Status));

        var aliceLog = (await store.ReadLogAsync("alice", 0, 10_000)).Where(e => e.From == "alice").ToList();
        Assert.Equal(ids, aliceLog.Select(e => e.Id).Distinct());
        Assert.Equal(results.Select(r => r.SenderSequence), ids.Select(id => aliceLog.First(e => e.Id == id).Sequence));

        var bobLog = (await store.ReadLogAsync("bob", 0, 10_000)).Where(e => e.From == "alice").ToList();
        Assert.Equal(ids.Where((_, i) => i % 10 >= 2 && i % 50 != 7), bobLog.Select(e => e.Id));
        var carolLog = await store.ReadLogAsync("carol", 0, 10_000);
        Assert.Equal(ids.Where((_, i) => i % 10 == 0), carolLog.Where(e => e.From == "alice").Select(e => e.Id));

        // Resending the whole window: every one a duplicate with its first sequence; one with other text: IdReused.
        var again = await Task.WhenAll(ids.Select((id, i) =>
            store.AppendAsync(new Submission("alice", id, (i % 10) switch { 0 => "carol", 1 => "alice", _ => "bob" }, $"m{i}",
                AutoReply: i % 50 == 7 ? "auto" : null))));
        Assert.All(again, r => Assert.Equal(AppendStatus.Duplicate, r.Status));
        Assert.Equal(results.Select(r => r.SenderSequence), again.Select(r => r.SenderSequence));
        Assert.Equal(AppendStatus.IdReused, (await store.AppendAsync(new Submission("alice", ids[5], "bob", "other"))).Status);
        Assert.Equal(bobLog.Count, (await store.ReadLogAsync("bob", 0, 10_000)).Count(e => e.From == "alice"));
    }
}
