using Microsoft.Extensions.Time.Testing;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;

namespace Parley.Server.Tests.Storage;

/// <summary>security.md 20: idempotent submit on (sender, id), refusal of a reused id, and unknown recipients.</summary>
public sealed class SqliteDeduplicationTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Trait("Security", "20")]
    [Fact]
    public async Task AppendAsync_SameIdSameContent_DuplicateWithOriginalSequenceAndTime()
    {
        await using var temp = new TempStore(time: _time);
        await temp.CreateUsersAsync("alice", "bob");
        var id = MessageId.NewRandom();
        var first = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "hi"));
        _time.Advance(TimeSpan.FromMinutes(5));
        await temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "something else"));

        var retry = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "hi"));

        Assert.Equal(AppendStatus.Stored, first.Status);
        Assert.Equal(AppendStatus.Duplicate, retry.Status);
        Assert.Equal(first.SenderSequence, retry.SenderSequence);
        Assert.Equal(first.Time, retry.Time);
        Assert.Single(await temp.Store.ReadLogAsync("bob", 0, 100), e => e.Id == id);
        Assert.Single(await temp.Store.ReadLogAsync("alice", 0, 100), e => e.Id == id);
    }

    /// <summary>
    /// A batch that fails is rolled back and the writer rebuilds its dedupe map from the staged submissions table:
    /// staged submissions, a note to self's too, are still found afterwards.
    /// </summary>
    [Trait("Security", "20")]
    [Fact]
    public async Task AppendAsync_AfterABatchFailedAndWasRolledBack_StagedSubmissionsStillDuplicates()
    {
        await using var temp = new TempStore(time: _time, stagedPartitions: 1);
        await temp.CreateUsersAsync("alice", "bob");
        var toBob = new Submission("alice", MessageId.NewRandom(), "bob", "staged");
        var note = new Submission("alice", MessageId.NewRandom(), "alice", "a note to self");
        var first = await temp.Store.AppendAsync(toBob);
        var noted = await temp.Store.AppendAsync(note);

        // Another connection adds a trigger that refuses one message's staged row, so its batch fails and rolls back.
        using (var connection = TempStore.Connect(temp.Path))
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "CREATE TRIGGER main.refuse_poison BEFORE INSERT ON staged_log WHEN NEW.body = 'poison' BEGIN SELECT RAISE(ABORT, 'injected failure'); END";
            command.ExecuteNonQuery();
        }

        await Assert.ThrowsAnyAsync<Exception>(() => temp.Store.AppendAsync(new Submission("alice", MessageId.NewRandom(), "bob", "poison")));

        var retry = await temp.Store.AppendAsync(toBob);
        var noteAgain = await temp.Store.AppendAsync(note);
        Assert.Equal((AppendStatus.Duplicate, first.SenderSequence), (retry.Status, retry.SenderSequence));
        Assert.Equal((AppendStatus.Duplicate, noted.SenderSequence), (noteAgain.Status, noteAgain.SenderSequence));
        Assert.Equal(["staged"], (await temp.Store.ReadLogAsync("bob", 0, 100)).Select(e => e.Text));
    }

    [Trait("Security", "20")]
    [Fact]
    public async Task AppendAsync_SameIdAfterReopeningTheFile_DuplicateWithOriginalSequenceAndTime()
    {
        await using var temp = new TempStore(time: _time);
        await temp.CreateUsersAsync("alice", "bob");
        var id = MessageId.NewRandom();
        var first = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "survives a restart"));

        await temp.ReopenAsync();
        _time.Advance(TimeSpan.FromHours(1));
        var retry = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "survives a restart"));

        Assert.Equal(AppendStatus.Duplicate, retry.Status);
        Assert.Equal((first.SenderSequence, first.Time), (retry.SenderSequence, retry.Time));
        Assert.Single(await temp.Store.ReadLogAsync("bob", 0, 100));
        Assert.Equal(1UL, await temp.Store.GetHeadAsync("bob"));
    }

    [Trait("Security", "20")]
    [Fact]
    public async Task AppendAsync_SameIdDifferentTextOrRecipient_IdReusedAndNothingStored()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob", "carol");
        var id = MessageId.NewRandom();
        await temp.Store.AppendAsync(new Submission("alice", id, "bob", "original"));

        var otherText = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "changed"));
        var otherRecipient = await temp.Store.AppendAsync(new Submission("alice", id, "carol", "original"));

        Assert.Equal(AppendStatus.IdReused, otherText.Status);
        Assert.Equal(AppendStatus.IdReused, otherRecipient.Status);
        Assert.Equal(["original"], (await temp.Store.ReadLogAsync("bob", 0, 100)).Select(e => e.Text));
        Assert.Empty(await temp.Store.ReadLogAsync("carol", 0, 100));
        Assert.Single(await temp.Store.ReadLogAsync("alice", 0, 100));
    }

    [Trait("Security", "20")]
    [Fact]
    public async Task AppendAsync_SameIdFromAnotherSender_StoredSeparately()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice", "bob", "carol");
        var id = MessageId.NewRandom();

        var fromAlice = await temp.Store.AppendAsync(new Submission("alice", id, "bob", "same id"));
        var fromCarol = await temp.Store.AppendAsync(new Submission("carol", id, "bob", "same id"));

        Assert.Equal(AppendStatus.Stored, fromAlice.Status);
        Assert.Equal(AppendStatus.Stored, fromCarol.Status);
        Assert.Equal(["alice", "carol"], (await temp.Store.ReadLogAsync("bob", 0, 100)).Select(e => e.From));
    }

    [Trait("Security", "20")]
    [Fact]
    public async Task AppendAsync_UnknownRecipient_UnknownRecipientAndNothingStored()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice");
        var id = MessageId.NewRandom();

        var result = await temp.Store.AppendAsync(new Submission("alice", id, "nobody", "hello?"));

        Assert.Equal(AppendStatus.UnknownRecipient, result.Status);
        Assert.Empty(await temp.Store.ReadLogAsync("alice", 0, 100));
        Assert.Empty(await temp.Store.ReadLogAsync("nobody", 0, 100));
        Assert.Equal(0UL, await temp.Store.GetHeadAsync("alice"));

        // Nothing was remembered either: once the account exists, the same id is a new message.
        await temp.CreateUsersAsync("nobody");
        Assert.Equal(AppendStatus.Stored, (await temp.Store.AppendAsync(new Submission("alice", id, "nobody", "hello?"))).Status);
    }
}
