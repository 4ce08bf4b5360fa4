using Microsoft.Extensions.Logging.Abstractions;
using Parley.Server.Memory;

namespace Parley.Server.Tests.Server;

/// <summary>
/// When an idle server collects to give memory back (<see cref="IdleMemoryRelease"/>): the decision on samples given
/// by the test, so that the rest of the test process's allocations cannot make it flaky. What it gives back on the
/// real server is measured in bench/ (docs/performance.md, session 15).
/// </summary>
public sealed class IdleMemoryReleaseTests
{
    private const long MiB = 1024 * 1024;

    private static readonly IdleMemoryReleaseOptions Options = new()
    {
        Interval = TimeSpan.FromMilliseconds(10),
        IdleAllocationBytes = 256 * 1024,
        MinimumGarbageBytes = 32 * MiB,
    };

    [Theory]
    [InlineData(0, 40, 0, true)] // idle, enough garbage, no collection yet
    [InlineData(256 * 1024, 40, 10, true)] // at the idle bound
    [InlineData(256 * 1024 + 1, 40, 10, false)] // busy
    [InlineData(0, 31, 0, false)] // not enough garbage
    [InlineData(0, 40, 41, false)] // the heap to compact is larger than what it gives back
    [InlineData(0, 41, 41, true)]
    public void ShouldRelease_IdleWithEnoughGarbage(long allocatedInInterval, long garbageMiB, long heapMiB, bool expected) =>
        Assert.Equal(expected, IdleMemoryRelease.ShouldRelease(allocatedInInterval, garbageMiB * MiB, heapMiB * MiB, Options));

    [Fact]
    public void ShouldRelease_TurnedOff_Never() =>
        Assert.False(IdleMemoryRelease.ShouldRelease(0, 1024 * MiB, 0, Options with { MinimumGarbageBytes = 0 }));

    [Fact]
    public void NoInterval_Refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new IdleMemoryRelease(Options with { Interval = TimeSpan.Zero }, NullLogger.Instance, new FakeSamples().Next, () => { }, start: false));

    [Fact]
    public async Task Tick_BusyThenIdle_CollectsOnceWhenIdle()
    {
        var samples = new FakeSamples();
        await using var release = new IdleMemoryRelease(Options, NullLogger.Instance, samples.Next, samples.Collect, start: false);

        samples.Allocate(20 * MiB);
        Assert.False(release.Tick()); // busy
        samples.Allocate(20 * MiB);
        Assert.False(release.Tick()); // busy, 40 MiB of garbage
        Assert.True(release.Tick()); // idle now
        Assert.Equal(1, samples.Collections);
        Assert.False(release.Tick()); // idle, but nothing allocated since its collection
        Assert.Equal(1, release.Releases);
    }

    [Fact]
    public async Task Tick_RuntimeCollectedInBetween_CountsGarbageFromThere()
    {
        var samples = new FakeSamples();
        await using var release = new IdleMemoryRelease(Options, NullLogger.Instance, samples.Next, samples.Collect, start: false);

        samples.Allocate(40 * MiB);
        samples.RuntimeCollects(heapAfter: 5 * MiB);
        Assert.False(release.Tick()); // a collection happened: the 40 MiB are not garbage any more
        Assert.False(release.Tick());
        samples.Allocate(20 * MiB);
        Assert.False(release.Tick()); // busy
        Assert.False(release.Tick()); // idle, 20 MiB since the runtime's collection: not enough
        samples.Allocate(16 * MiB);
        Assert.False(release.Tick());
        Assert.True(release.Tick()); // idle, 36 MiB
        Assert.Equal(1, samples.Collections);
    }

    [Fact]
    public async Task Tick_HeapLargerThanGarbage_LeftAlone()
    {
        var samples = new FakeSamples();
        samples.RuntimeCollects(heapAfter: 200 * MiB);
        await using var release = new IdleMemoryRelease(Options, NullLogger.Instance, samples.Next, samples.Collect, start: false);

        samples.Allocate(100 * MiB);
        Assert.False(release.Tick());
        Assert.False(release.Tick()); // idle with 100 MiB of garbage, but a 200 MiB heap to compact
        samples.Allocate(120 * MiB);
        Assert.False(release.Tick());
        Assert.True(release.Tick()); // 220 MiB of garbage
    }

    [Fact]
    public async Task Started_CollectsOnItsOwnTimer()
    {
        var samples = new FakeSamples();
        var collected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var release = new IdleMemoryRelease(Options, NullLogger.Instance, samples.Next, () =>
        {
            samples.Collect();
            collected.TrySetResult();
        }, start: true);

        // Counted from its construction: the tick that sees this allocation finds the interval busy, the next one idle.
        samples.Allocate(64 * MiB);
        await collected.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, release.Releases);
    }

    /// <summary>A process's allocations and collections as the test says they are.</summary>
    private sealed class FakeSamples
    {
        private readonly Lock _gate = new();
        private long _allocated;
        private int _collections;
        private long _heap;

        public int Collections { get; private set; }

        public void Allocate(long bytes)
        {
            lock (_gate)
            {
                _allocated += bytes;
            }
        }

        public void RuntimeCollects(long heapAfter)
        {
            lock (_gate)
            {
                _collections++;
                _heap = heapAfter;
            }
        }

        public void Collect()
        {
            RuntimeCollects(heapAfter: 4 * MiB);
            Collections++;
        }

        public MemorySample Next()
        {
            lock (_gate)
            {
                return new MemorySample(_allocated, _collections, _heap);
            }
        }
    }
}
