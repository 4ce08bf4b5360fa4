using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Parley.Server.P2P;
using Parley.Storage;

namespace Parley.Server.Tests.P2P;

/// <summary>
/// The directory's rules over a store shared by several nodes (cluster mode), without NATS: another node's write
/// may land between a heartbeat's read and its compare-and-set, and the store may still hold entries past their
/// deadline (NATS reaps them on its own timer). <see cref="RacingStore"/> injects the other node's write.
/// </summary>
public sealed class PeerDirectoryRaceTests : IDisposable
{
    private static readonly byte[] Key = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly RacingStore _store = new();
    private readonly ServerMetrics _metrics = new();
    private readonly PeerDirectory _directory;

    /// <summary>Default settings: 30 s interval, 3 missed, so an entry lives 90 s.</summary>
    public PeerDirectoryRaceTests() => _directory = new PeerDirectory(new ServerOptions { Time = _time }, _metrics, NullLogger.Instance, _store);

    public void Dispose()
    {
        _directory.Dispose();
        _metrics.Dispose();
    }

    [Fact]
    public async Task Heartbeat_AnotherNodesHeartbeatWinsTheRace_ReadsAgainAndIsAlive()
    {
        var secret = await _directory.TryRegisterAsync("alice", "phone", "10.0.0.7:7979", Key, CancellationToken.None);
        Assert.NotNull(secret);
        _time.Advance(TimeSpan.FromSeconds(30));
        _store.BeforeNextReplace = async () =>
        {
            var current = (await _store.OtherNode.GetAsync("alice", "phone"))!;
            Assert.True(await _store.OtherNode.TryReplaceAsync(current.Entry with { LastSeen = _time.GetUtcNow() }, current.Revision));
        };

        var result = await _directory.HeartbeatAsync("alice", "phone", secret, CancellationToken.None);

        Assert.Equal(HeartbeatResult.Alive, result);
        Assert.Equal(2, _store.ReplaceAttempts); // the first lost the race and was not retried blindly
        Assert.Equal(1, _metrics.Heartbeats);
    }

    [Fact]
    public async Task Heartbeat_ANewRegistrationWinsTheRace_OldSecretIsWrong()
    {
        var first = await _directory.TryRegisterAsync("alice", "phone", "10.0.0.7:7979", Key, CancellationToken.None);
        byte[]? second = null;
        _store.BeforeNextReplace = async () => second = await _directory.TryRegisterAsync("alice", "phone", "10.0.0.8:7979", Key, CancellationToken.None);

        var result = await _directory.HeartbeatAsync("alice", "phone", first!, CancellationToken.None);

        Assert.Equal(HeartbeatResult.WrongSecret, result);
        Assert.Equal("10.0.0.8:7979", Assert.Single(await _directory.LookupAsync("alice", CancellationToken.None)).Endpoint);
        Assert.Equal(HeartbeatResult.Alive, await _directory.HeartbeatAsync("alice", "phone", second!, CancellationToken.None));
    }

    [Fact]
    public async Task EntryPastItsDeadline_StillInTheStore_NotListedAndItsHeartbeatUnknown()
    {
        var secret = await _directory.TryRegisterAsync("alice", "phone", "10.0.0.7:7979", Key, CancellationToken.None);
        Assert.NotNull(await _directory.TryRegisterAsync("alice", "laptop", "10.0.0.9:7979", Key, CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(HeartbeatResult.Alive, await _directory.HeartbeatAsync("alice", "phone", secret!, CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(30)); // laptop: 90 s of silence; phone: 30 s

        Assert.Equal(["phone"], (await _directory.LookupAsync("alice", CancellationToken.None)).Select(e => e.Device));
        Assert.Equal(2, (await _store.ListAsync("alice")).Count); // the store has not dropped it: the rule hides it
        Assert.Equal(HeartbeatResult.UnknownDevice, await _directory.HeartbeatAsync("alice", "laptop", new byte[32], CancellationToken.None));
    }

    /// <summary>
    /// The in-memory store, with a hook that runs "another node's" write just before the next replace. Its sweep drops
    /// nothing, as NATS's does not (NATS reaps on its own timer), so entries past their deadline stay until a test ends.
    /// </summary>
    private sealed class RacingStore : IPeerDirectoryStore
    {
        private readonly MemoryPeerDirectoryStore _inner = new();

        /// <summary>The same entries, written around the hook: what another node sees and changes.</summary>
        public IPeerDirectoryStore OtherNode => _inner;

        public Func<Task>? BeforeNextReplace { get; set; }

        public int ReplaceAttempts { get; private set; }

        public int Count => _inner.Count;

        public Task<bool> TryPutAsync(DirectoryEntry entry, int maxPerUser, CancellationToken cancellationToken = default) =>
            _inner.TryPutAsync(entry, maxPerUser, cancellationToken);

        public Task<StoredDirectoryEntry?> GetAsync(string user, string device, CancellationToken cancellationToken = default) =>
            _inner.GetAsync(user, device, cancellationToken);

        public async Task<bool> TryReplaceAsync(DirectoryEntry entry, ulong revision, CancellationToken cancellationToken = default)
        {
            if (BeforeNextReplace is { } other)
            {
                BeforeNextReplace = null;
                await other();
            }

            ReplaceAttempts++;
            return await _inner.TryReplaceAsync(entry, revision, cancellationToken);
        }

        public Task<IReadOnlyList<DirectoryEntry>> ListAsync(string user, CancellationToken cancellationToken = default) =>
            _inner.ListAsync(user, cancellationToken);

        public Task RemoveAsync(string user, string? device, CancellationToken cancellationToken = default) =>
            _inner.RemoveAsync(user, device, cancellationToken);

        public Task<IReadOnlyList<DirectoryEntry>> SweepAsync(DateTimeOffset now, TimeSpan lifetime, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<DirectoryEntry>>([]);
    }
}
