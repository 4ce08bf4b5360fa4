using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;

namespace Parley.Server.Tests.Storage;

/// <summary>Appending messages: the recipient's log, the sender's copy, the commit callback and concurrent appends.</summary>
public sealed class SqliteAppendTests
{
    [Fact]
    public async Task AppendAsync_MessageToUser_InRecipientLogAndSenderCopyWithIncreasingSequences()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob");
        var ids = new[] { MessageId.NewRandom(), MessageId.NewRandom(), MessageId.NewRandom() };

        var results = new List<AppendResult>();
        for (var i = 0; i < ids.Length; i++)
        {
            results.Add(await temp.Store.AppendAsync(new Submission("alice", ids[i], "bob", $"hello {i}")));
        }

        Assert.All(results, result => Assert.Equal(AppendStatus.Stored, result.Status));
        Assert.Equal([1UL, 2UL, 3UL], results.Select(r => r.SenderSequence));

        var bobLog = await temp.Store.ReadLogAsync("bob", 0, 100);
        Assert.Equal([1UL, 2UL, 3UL], bobLog.Select(e => e.Sequence));
        Assert.Equal(ids, bobLog.Select(e => e.Id));
        Assert.All(bobLog, e => Assert.Equal(("bob", "alice", "bob"), (e.Owner, e.From, e.To)));
        Assert.Equal(["hello 0", "hello 1", "hello 2"], bobLog.Select(e => e.Text));

        var aliceLog = await temp.Store.ReadLogAsync("alice", 0, 100);
        Assert.Equal(results.Select(r => r.SenderSequence), aliceLog.Select(e => e.Sequence));
        Assert.Equal(ids, aliceLog.Select(e => e.Id));
        Assert.Equal(results.Select(r => r.Time), aliceLog.Select(e => e.Time));
        Assert.All(aliceLog, e => Assert.Equal(("alice", "alice", "bob"), (e.Owner, e.From, e.To)));

        Assert.Equal(3UL, await temp.Store.GetHeadAsync("bob"));
        Assert.Equal(3UL, await temp.Store.GetHeadAsync("alice"));
        Assert.Equal([3UL], (await temp.Store.ReadLogAsync("bob", 2, 100)).Select(e => e.Sequence));
        Assert.Equal([1UL, 2UL], (await temp.Store.ReadLogAsync("bob", 0, 2)).Select(e => e.Sequence));
    }

    /// <summary>
    /// Empty text stays empty (not NULL), and non-ASCII text and names come back exactly, from the staged rows and after
    /// the merge into the log. Long texts too: the append binds text through a stack buffer up to 1 KiB of UTF-8 and a
    /// pooled one beyond (RawStatement).
    /// </summary>
    [Fact]
    public async Task AppendAsync_EmptyNonAsciiAndLongText_ReadBackExactlyBeforeAndAfterReopen()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "zoë");
        string[] texts = ["", "héllo ✓ 日本語 🎉", "tab\tand\nnewline", new string('x', 340), new string('x', 341),
            string.Concat(Enumerable.Repeat("日本語🎉é", 2000)), new string('z', 100_000)];
        foreach (var text in texts)
        {
            Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "zoë", text))).Status);
        }

        for (var pass = 0; pass < 2; pass++)
        {
            var log = await temp.Store.ReadLogAsync("zoë", 0, 100);
            Assert.Equal(texts, log.Select(e => e.Text));
            Assert.All(log, e => Assert.Equal(("zoë", "alice", "zoë"), (e.Owner, e.From, e.To)));
            Assert.Equal(texts, (await temp.Store.ReadLogAsync("alice", 0, 100)).Select(e => e.Text));
            await temp.ReopenAsync(); // a clean close merges the staged rows into the log table
        }
    }

    /// <summary>
    /// A head read from the table (nothing appended since the store opened) is remembered, and a later append still
    /// moves it: an idle user's logins cost no query, and a remembered head never hides a new message.
    /// </summary>
    [Fact]
    public async Task GetHeadAsync_AfterReopen_ReadFromTableThenMovedByAppends()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob", "carol");
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "one"));
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "two"));
        await temp.ReopenAsync();

        Assert.Equal(2UL, await temp.Store.GetHeadAsync("bob"));
        Assert.Equal(2UL, await temp.Store.GetHeadAsync("bob"));
        Assert.Equal(0UL, await temp.Store.GetHeadAsync("carol"));

        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "three"));
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "carol", "hi"));

        Assert.Equal(3UL, await temp.Store.GetHeadAsync("bob"));
        Assert.Equal(1UL, await temp.Store.GetHeadAsync("carol"));
    }

    [Fact]
    public async Task Committed_SeveralAppends_ReceivesEntriesInCommitOrderBeforeTheWriteCompletes()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob", "carol");
        var committed = new List<LogEntry>();
        temp.Store.Committed = entries =>
        {
            lock (committed)
            {
                committed.AddRange(entries);
            }
        };

        for (var i = 0; i < 10; i++)
        {
            var from = i % 2 == 0 ? "alice" : "carol";
            var id = MessageId.NewRandom();
            await temp.Store.AppendAsync(new Submission(from, id, "bob", $"m{i}"));
            lock (committed)
            {
                // The callback ran before the append's task completed: the router learns of an entry before the sender's SEND_OK.
                Assert.Contains(committed, e => e.Owner == "bob" && e.Id == id);
            }
        }

        List<LogEntry> seen;
        lock (committed)
        {
            seen = [.. committed];
        }

        foreach (var owner in new[] { "alice", "bob", "carol" })
        {
            var logged = await temp.Store.ReadLogAsync(owner, 0, 100);
            Assert.Equal(logged, seen.Where(e => e.Owner == owner));
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"m{i}"), seen.Where(e => e.Owner == "bob").Select(e => e.Text));
    }

    [Fact]
    public async Task AppendAsync_ManyConcurrentSendersToOneRecipient_SequencesOneToNWithoutGapsOrDuplicates()
    {
        const int Senders = 8;
        const int PerSender = 40;
        await using var temp = new TempStore();
        var senders = Enumerable.Range(0, Senders).Select(i => $"sender{i}").ToArray();
        await temp.CreateUsersAsync([.. senders, "bob"]);
        var committedBob = new List<ulong>();
        temp.Store.Committed = entries =>
        {
            lock (committedBob)
            {
                committedBob.AddRange(entries.Where(e => e.Owner == "bob").Select(e => e.Sequence));
            }
        };

        var results = await Task.WhenAll(senders.SelectMany(sender => Enumerable.Range(0, PerSender).Select(i =>
            Task.Run(() => temp.Store.AppendAsync(new Submission(sender, MessageId.NewRandom(), "bob", $"{sender}:{i}"))))));

        Assert.All(results, r => Assert.Equal(AppendStatus.Stored, r.Status));
        var log = await temp.Store.ReadLogAsync("bob", 0, 10_000);
        var expected = Enumerable.Range(1, Senders * PerSender).Select(i => (ulong)i).ToList();
        Assert.Equal(expected, log.Select(e => e.Sequence));
        Assert.Equal(Senders * PerSender, log.Select(e => e.Text).Distinct().Count());
        lock (committedBob)
        {
            Assert.Equal(expected, committedBob);
        }

        // Every sender's copies are numbered 1..PerSender in its own log as well.
        foreach (var sender in senders)
        {
            var own = await temp.Store.ReadLogAsync(sender, 0, 10_000);
            Assert.Equal(Enumerable.Range(1, PerSender).Select(i => (ulong)i), own.Select(e => e.Sequence));
        }
    }

    /// <summary>
    /// Append with a callback (how the server answers SEND): called once, on the writer thread, after the commit and
    /// after <see cref="SqliteChatStore.Committed"/> saw the entries, with what AppendAsync would have returned.
    /// </summary>
    [Fact]
    public async Task Append_WithCallback_CalledOnceOnTheWriterThreadAfterTheCommit()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob");
        var committed = 0;
        temp.Store.Committed = entries => Interlocked.Add(ref committed, entries.Count);
        var id = MessageId.NewRandom();
        var calls = new List<(AppendResult Result, Exception? Failure, string? Thread, int CommittedBefore)>();
        var called = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        temp.Store.Append(new Submission("alice", id, "bob", "hello"), (result, failure) =>
        {
            lock (calls)
            {
                calls.Add((result, failure, Thread.CurrentThread.Name, Volatile.Read(ref committed)));
            }

            called.TrySetResult();
        });
        await called.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // A duplicate of the same id through the task API: the callback was not called a second time meanwhile.
        var again = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "hello"));

        var (result, failure, thread, committedBefore) = Assert.Single(calls);
        Assert.Null(failure);
        Assert.Equal((AppendStatus.Stored, 1UL), (result.Status, result.SenderSequence));
        Assert.Equal("parley-store-writer", thread);
        Assert.Equal(2, committedBefore); // bob's entry and alice's copy
        Assert.Equal((AppendStatus.Duplicate, result.SenderSequence, result.Time), (again.Status, again.SenderSequence, again.Time));
        Assert.Equal([id], (await temp.Store.ReadLogAsync("bob", 0, 10)).Select(e => e.Id));
    }

    /// <summary>A callback that throws costs nothing but itself: the writer thread goes on with the next writes.</summary>
    [Fact]
    public async Task Append_CallbackThrows_LaterWritesStillComplete()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob");
        var called = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        temp.Store.Append(new Submission("alice", MessageId.NewRandom(), "bob", "one"), (_, _) =>
        {
            called.TrySetResult();
            throw new InvalidOperationException("a careless callback");
        });
        await called.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var next = await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "two")).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((AppendStatus.Stored, 2UL), (next.Status, next.SenderSequence));
        Assert.Equal(["one", "two"], (await temp.Store.ReadLogAsync("bob", 0, 10)).Select(e => e.Text));
    }

    /// <summary>On a closed store the callback gets the failure (the server then answers ERROR InternalError), not silence.</summary>
    [Fact]
    public async Task Append_WithCallbackOnAClosedStore_ReportsTheFailure()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob");
        await temp.Store.DisposeAsync(); // closed twice in all (TempStore closes it again): the second close does nothing
        var reported = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);

        temp.Store.Append(new Submission("alice", MessageId.NewRandom(), "bob", "too late"), (_, failure) => reported.TrySetResult(failure));

        Assert.IsType<ObjectDisposedException>(await reported.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
