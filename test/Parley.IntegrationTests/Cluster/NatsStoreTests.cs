using Parley.Protocol;
using Parley.Storage;
using Parley.Storage.Nats;

namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// The store contract, as the SQLite store's tests state it, against <see cref="NatsChatStore"/> on a real
/// nats-server. Sequences are the stream's (gaps allowed, protocol §5.4), so tests compare order and content, not values.
/// </summary>
public sealed class NatsStoreTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private Task<NatsChatStore> OpenAsync(string ns, StoreLimits? limits = null) =>
        NatsChatStore.OpenAsync(new NatsStoreOptions { Urls = [nats.Server.Url], Namespace = ns, Limits = limits ?? new StoreLimits() });

    private async Task<NatsChatStore> OpenWithUsersAsync(StoreLimits? limits, params string[] users)
    {
        var store = await OpenAsync(NatsFixture.NewNamespace(), limits);
        foreach (var user in users)
        {
            Assert.True(await store.CreateUserAsync(user, "hash-" + user));
        }

        return store;
    }

    [Fact]
    public async Task CreateUser_NameTaken_FalseAndHashKept()
    {
        await using var store = await OpenWithUsersAsync(null, "alice");
        Assert.False(await store.CreateUserAsync("alice", "other"));
        Assert.Equal("hash-alice", await store.GetPasswordHashAsync("alice"));
        Assert.Null(await store.GetPasswordHashAsync("nobody"));
        await store.SetPasswordHashAsync("alice", "new");
        Assert.Equal("new", await store.GetPasswordHashAsync("alice"));
    }

    [Fact]
    public async Task Append_CopiesInBothLogs_InOrder_HeadsAndCommittedCallback()
    {
        await using var store = await OpenWithUsersAsync(null, "alice", "bob");
        var committed = new List<LogEntry>();
        store.Committed = entries => { lock (committed) { committed.AddRange(entries); } };
        var ids = Enumerable.Range(0, 5).Select(_ => MessageId.NewRandom()).ToArray();
        var results = new List<AppendResult>();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            results.Add(await store.AppendAsync(new Submission("alice", id, "bob", $"m{i}")));
        }

        Assert.All(results, r => Assert.Equal(AppendStatus.Stored, r.Status));
        var bob = await store.ReadLogAsync("bob", 0, 100);
        var alice = await store.ReadLogAsync("alice", 0, 100);
        Assert.Equal(ids, bob.Select(e => e.Id));
        Assert.Equal(ids, alice.Select(e => e.Id));
        Assert.Equal(results.Select(r => r.SenderSequence), alice.Select(e => e.Sequence));
        Assert.True(bob.Zip(bob.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.Equal(bob[^1].Sequence, await store.GetHeadAsync("bob"));
        Assert.Equal(bob.Skip(2).Select(e => e.Id), (await store.ReadLogAsync("bob", bob[1].Sequence, 100)).Select(e => e.Id));
        Assert.Equal(2, (await store.ReadLogAsync("bob", 0, 2)).Count);
        Assert.Equal(0UL, await store.GetHeadAsync("carol"));
        lock (committed)
        {
            Assert.Equal(10, committed.Count); // both copies of each message, on this node at once
        }
    }

    [Fact]
    public async Task Append_SameIdSameContent_DuplicateWithFirstSequence_OtherContent_IdReused()
    {
        await using var store = await OpenWithUsersAsync(null, "alice", "bob", "carol");
        var id = MessageId.NewRandom();
        var first = await store.AppendAsync(new Submission("alice", id, "bob", "hi"));
        var retry = await store.AppendAsync(new Submission("alice", id, "bob", "hi"));
        var otherText = await store.AppendAsync(new Submission("alice", id, "bob", "changed"));
        var otherRecipient = await store.AppendAsync(new Submission("alice", id, "carol", "hi"));

        Assert.Equal(AppendStatus.Duplicate, retry.Status);
        Assert.Equal((first.SenderSequence, first.Time), (retry.SenderSequence, retry.Time));
        Assert.Equal(AppendStatus.IdReused, otherText.Status);
        Assert.Equal(AppendStatus.IdReused, otherRecipient.Status);
        Assert.Single(await store.ReadLogAsync("bob", 0, 100));
        Assert.Single(await store.ReadLogAsync("alice", 0, 100));
        Assert.Empty(await store.ReadLogAsync("carol", 0, 100));
    }

    [Fact]
    public async Task Append_DuplicateSeenByAnotherNode_AfterReopen()
    {
        var ns = NatsFixture.NewNamespace();
        var id = MessageId.NewRandom();
        AppendResult first;
        await using (var nodeA = await OpenAsync(ns))
        {
            await nodeA.CreateUserAsync("alice", "h");
            await nodeA.CreateUserAsync("bob", "h");
            first = await nodeA.AppendAsync(new Submission("alice", id, "bob", "once"));
        }

        await using var nodeB = await OpenAsync(ns);
        var retry = await nodeB.AppendAsync(new Submission("alice", id, "bob", "once"));
        Assert.Equal(AppendStatus.Duplicate, retry.Status);
        Assert.Equal(first.SenderSequence, retry.SenderSequence);
        Assert.Single(await nodeB.ReadLogAsync("bob", 0, 100));
    }

    [Fact]
    public async Task Append_UnknownRecipient_NothingStored()
    {
        await using var store = await OpenWithUsersAsync(null, "alice");
        var result = await store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "nobody", "hello?"));
        Assert.Equal(AppendStatus.UnknownRecipient, result.Status);
        Assert.Empty(await store.ReadLogAsync("alice", 0, 100));
    }

    [Fact]
    public async Task Append_EchoBot_SenderCopyAndReplyInSendersLogOnly()
    {
        await using var store = await OpenWithUsersAsync(null, "alice", "echo");
        var id = MessageId.NewRandom();
        var result = await store.AppendAsync(new Submission("alice", id, "echo", "hi", AutoReply: "HI"));
        Assert.Equal(AppendStatus.Stored, result.Status);
        var log = await store.ReadLogAsync("alice", 0, 100);
        Assert.Equal([("alice", "echo", "hi"), ("echo", "alice", "HI")], log.Select(e => (e.From, e.To, e.Text)));
        Assert.Empty(await store.ReadLogAsync("echo", 0, 100));
    }

    [Fact]
    public async Task Append_PastTheQuota_QueueFull_UntilADeviceAcknowledges()
    {
        await using var store = await OpenWithUsersAsync(new StoreLimits { MaxUnacknowledgedPerUser = 5 }, "alice", "bob");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(AppendStatus.Stored, (await store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", $"m{i}"))).Status);
        }

        var refused = MessageId.NewRandom();
        Assert.Equal(AppendStatus.QueueFull, (await store.AppendAsync(new Submission("alice", refused, "bob", "wait"))).Status);
        Assert.Equal(5, (await store.ReadLogAsync("bob", 0, 100)).Count);

        var bob = await store.ReadLogAsync("bob", 0, 100);
        await store.SaveCursorAsync("bob", "phone", bob[2].Sequence);
        Assert.Equal(AppendStatus.Stored, (await store.AppendAsync(new Submission("alice", refused, "bob", "wait"))).Status);
    }

    [Fact]
    public async Task Cursor_NeverMovesBack_AndReceiptGoesToTheSender()
    {
        await using var store = await OpenWithUsersAsync(null, "alice", "bob");
        var receipts = new List<DeliveryReceipt>();
        store.Delivered = r => { lock (receipts) { receipts.AddRange(r); } };
        var first = await store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "one"));
        var second = await store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "two"));
        var bob = await store.ReadLogAsync("bob", 0, 100);

        await store.SaveCursorAsync("bob", "phone", bob[1].Sequence);
        await store.SaveCursorAsync("bob", "phone", bob[0].Sequence);
        await store.SaveCursorAsync("bob", "laptop", bob[0].Sequence);

        Assert.Equal(bob[1].Sequence, await store.GetCursorAsync("bob", "phone"));
        Assert.Equal(bob[0].Sequence, await store.GetCursorAsync("bob", "laptop"));
        Assert.Equal(0UL, await store.GetCursorAsync("bob", "tablet"));
        lock (receipts)
        {
            Assert.Equal([new DeliveryReceipt("alice", "bob", second.SenderSequence)], receipts);
        }

        Assert.True(first.SenderSequence < second.SenderSequence);
    }

    [Fact]
    public async Task Tokens_TakenOnce_RevokedByUserOrDevice()
    {
        await using var store = await OpenWithUsersAsync(null, "alice");
        var expires = DateTimeOffset.UtcNow.AddDays(1);
        byte[] Hash(int i) => [.. Enumerable.Repeat((byte)i, 32)];
        await store.AddTokenAsync(new ResumeTokenRecord(Hash(1), "alice", "phone", expires));
        await store.AddTokenAsync(new ResumeTokenRecord(Hash(2), "alice", "phone", expires));
        await store.AddTokenAsync(new ResumeTokenRecord(Hash(3), "alice", "laptop", expires));

        var taken = await store.TakeTokenAsync(Hash(1));
        Assert.Equal(("alice", "phone"), (taken!.User, taken.Device));
        Assert.Equal(expires.ToUnixTimeMilliseconds(), taken.Expires.ToUnixTimeMilliseconds());
        Assert.Null(await store.TakeTokenAsync(Hash(1)));

        await store.RevokeTokensAsync("alice", "phone");
        Assert.Null(await store.TakeTokenAsync(Hash(2)));
        await store.AddTokenAsync(new ResumeTokenRecord(Hash(4), "alice", "phone", expires)); // after the revocation: valid
        await store.RevokeTokensAsync("alice", null);
        Assert.Null(await store.TakeTokenAsync(Hash(3)));
        Assert.Null(await store.TakeTokenAsync(Hash(4)));
        await store.AddTokenAsync(new ResumeTokenRecord(Hash(5), "alice", "phone", expires));
        Assert.NotNull(await store.TakeTokenAsync(Hash(5)));
    }

    [Fact]
    public async Task ExchangeToken_ReplacementStoredOnlyForTheTokensOwnDevice()
    {
        await using var store = await OpenWithUsersAsync(null, "alice");
        var now = DateTimeOffset.UtcNow;
        byte[] Hash(int i) => [.. Enumerable.Repeat((byte)i, 32)];
        await store.AddTokenAsync(new ResumeTokenRecord(Hash(1), "alice", "phone", now.AddDays(1)));
        await store.AddTokenAsync(new ResumeTokenRecord(Hash(2), "alice", "phone", now.AddDays(1)));

        var taken = await store.ExchangeTokenAsync(Hash(1), new ResumeTokenRecord(Hash(3), "alice", "phone", now.AddDays(2)), now);
        var refused = await store.ExchangeTokenAsync(Hash(2), new ResumeTokenRecord(Hash(4), "alice", "laptop", now.AddDays(2)), now);

        Assert.Equal(("alice", "phone"), (taken!.User, taken.Device));
        Assert.NotNull(refused);
        Assert.Null(await store.TakeTokenAsync(Hash(1)));
        Assert.Null(await store.TakeTokenAsync(Hash(2)));
        Assert.NotNull(await store.TakeTokenAsync(Hash(3)));
        Assert.Null(await store.TakeTokenAsync(Hash(4)));
    }

    [Fact]
    public async Task History_NewestBeforeASequence_OldestFirst_FilteredByPeer()
    {
        await using var store = await OpenWithUsersAsync(null, "alice", "bob", "carol");
        for (var i = 0; i < 6; i++)
        {
            await store.AppendAsync(new Submission(i % 2 == 0 ? "bob" : "carol", MessageId.NewRandom(), "alice", $"m{i}"));
        }

        var log = await store.ReadLogAsync("alice", 0, 100);
        Assert.Equal(["m3", "m4", "m5"], (await store.ReadHistoryAsync("alice", 0, 3, null)).Select(e => e.Text));
        Assert.Equal(["m2", "m3"], (await store.ReadHistoryAsync("alice", log[4].Sequence, 2, null)).Select(e => e.Text));
        Assert.Equal(["m0", "m2", "m4"], (await store.ReadHistoryAsync("alice", 0, 10, "bob")).Select(e => e.Text));
    }

    [Fact]
    public async Task CommittedOnAnotherNode_ReachesThisNodesCallback()
    {
        var ns = NatsFixture.NewNamespace();
        await using var nodeA = await OpenAsync(ns);
        await using var nodeB = await OpenAsync(ns);
        await nodeA.CreateUserAsync("alice", "h");
        await nodeA.CreateUserAsync("bob", "h");
        var seen = new TaskCompletionSource<LogEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        nodeB.Committed = entries =>
        {
            foreach (var entry in entries.Where(e => e.Owner == "bob"))
            {
                seen.TrySetResult(entry);
            }
        };

        var id = MessageId.NewRandom();
        await nodeA.AppendAsync(new Submission("alice", id, "bob", "across"));
        var entry = await seen.Task.WaitAsync(Parley.Timeout);
        Assert.Equal((id, "across"), (entry.Id, entry.Text));
    }
}
