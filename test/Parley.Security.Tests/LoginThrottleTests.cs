using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Parley.Security.Tests;

public sealed class LoginThrottleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Trait("Security", "16")]
    [Fact]
    public async Task Login_ThirtyWrongPasswords_ThrottledAfterThresholdWithoutHashing()
    {
        using var throttle = new LoginThrottle(timeProvider: _time);
        var hasher = new PasswordHasher(PasswordHasherTests.Cheap);
        var phc = hasher.Hash("right");
        var hashesBefore = hasher.HashCount;
        var throttled = 0;
        var checkTimes = new List<TimeSpan>();

        for (var attempt = 0; attempt < 30; attempt++)
        {
            var watch = Stopwatch.StartNew();
            if (throttle.IsThrottled("10.0.0.1", "alice", out var retryAfter))
            {
                checkTimes.Add(watch.Elapsed);
                Assert.True(retryAfter > TimeSpan.Zero);
                throttled++;
                continue;
            }

            using (await throttle.EnterHashingAsync())
            {
                Assert.False(hasher.Verify("wrong" + attempt, phc));
            }

            throttle.RecordFailure("10.0.0.1", "alice");
        }

        Assert.Equal(25, throttled);
        Assert.Equal(5, hasher.HashCount - hashesBefore);
        checkTimes.Sort();
        Assert.True(checkTimes[checkTimes.Count / 2] < TimeSpan.FromMilliseconds(5), $"median check took {checkTimes[checkTimes.Count / 2]}");
    }

    [Trait("Security", "16")]
    [Fact]
    public void IsThrottled_OtherAddressAndAccount_Unaffected()
    {
        using var throttle = new LoginThrottle(timeProvider: _time);
        for (var i = 0; i < 30; i++)
        {
            throttle.RecordFailure("10.0.0.1", "alice");
        }

        Assert.True(throttle.IsThrottled("10.0.0.1", "alice", out _));
        Assert.False(throttle.IsThrottled("10.0.0.2", "bob", out var retryAfter));
        Assert.Equal(TimeSpan.Zero, retryAfter);

        // Each counter also works alone: the attacking address is refused for any account, and the attacked
        // account is refused from any address.
        Assert.True(throttle.IsThrottled("10.0.0.1", "bob", out _));
        Assert.True(throttle.IsThrottled("10.0.0.2", "alice", out _));
    }

    [Trait("Security", "16")]
    [Fact]
    public void IsThrottled_AccountInOtherCase_SameCounter()
    {
        using var throttle = new LoginThrottle(timeProvider: _time);
        for (var i = 0; i < 5; i++)
        {
            throttle.RecordFailure("10.0.0." + i, i % 2 == 0 ? "Alice" : "alice");
        }

        Assert.True(throttle.IsThrottled("10.0.0.99", "ALICE", out _));
    }

    [Trait("Security", "16")]
    [Fact]
    public void IsThrottled_FewerThanFreeFailures_NotThrottled()
    {
        using var throttle = new LoginThrottle(timeProvider: _time);
        for (var i = 0; i < 4; i++)
        {
            throttle.RecordFailure("10.0.0.1", "alice");
        }

        Assert.False(throttle.IsThrottled("10.0.0.1", "alice", out _));
        throttle.RecordFailure("10.0.0.1", "alice");
        Assert.True(throttle.IsThrottled("10.0.0.1", "alice", out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
    }

    [Trait("Security", "16")]
    [Fact]
    public void RecordFailure_AfterThreshold_BackoffDoublesUpToCap()
    {
        using var throttle = new LoginThrottle(timeProvider: _time);
        for (var i = 0; i < 5; i++)
        {
            throttle.RecordFailure("10.0.0.1", "alice");
        }

        var expected = TimeSpan.FromSeconds(1);
        for (var extra = 0; extra < 20; extra++)
        {
            Assert.True(throttle.IsThrottled("10.0.0.1", "alice", out var retryAfter));
            Assert.Equal(expected, retryAfter);

            _time.Advance(retryAfter - TimeSpan.FromMilliseconds(1));
            Assert.True(throttle.IsThrottled("10.0.0.1", "alice", out _));
            _time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.False(throttle.IsThrottled("10.0.0.1", "alice", out _));

            throttle.RecordFailure("10.0.0.1", "alice");
            expected = TimeSpan.FromTicks(Math.Min(expected.Ticks * 2, TimeSpan.FromMinutes(15).Ticks));
        }

        Assert.Equal(TimeSpan.FromMinutes(15), expected);

        // At the cap a failure on each release keeps the key at the cap: no fresh free failures.
        Assert.True(throttle.IsThrottled("10.0.0.1", "alice", out var capped));
        Assert.Equal(TimeSpan.FromMinutes(15), capped);
    }

    [Trait("Security", "16")]
    [Fact]
    public void IsThrottled_WindowPassed_CounterReset()
    {
        using var throttle = new LoginThrottle(timeProvider: _time);
        for (var i = 0; i < 30; i++)
        {
            throttle.RecordFailure("10.0.0.1", "alice");
        }

        Assert.True(throttle.IsThrottled("10.0.0.1", "alice", out var retryAfter));
        Assert.Equal(TimeSpan.FromMinutes(15), retryAfter);

        // Backoff over, but the window after it has not passed: one more failure means the maximum backoff again.
        _time.Advance(TimeSpan.FromMinutes(15));
        Assert.False(throttle.IsThrottled("10.0.0.1", "alice", out _));
        Assert.Equal(2, throttle.TrackedKeys);

        _time.Advance(TimeSpan.FromMinutes(15));
        Assert.False(throttle.IsThrottled("10.0.0.1", "alice", out _));
        Assert.Equal(0, throttle.TrackedKeys);

        // Counting starts again from zero: four more failures are free.
        for (var i = 0; i < 4; i++)
        {
            throttle.RecordFailure("10.0.0.1", "alice");
        }

        Assert.False(throttle.IsThrottled("10.0.0.1", "alice", out _));
    }

    [Trait("Security", "16")]
    [Fact]
    public void IsThrottled_SlowFailuresSpreadBeyondWindow_NeverThrottled()
    {
        using var throttle = new LoginThrottle(timeProvider: _time);
        for (var i = 0; i < 20; i++)
        {
            Assert.False(throttle.IsThrottled("10.0.0.1", "alice", out _));
            throttle.RecordFailure("10.0.0.1", "alice");
            _time.Advance(TimeSpan.FromMinutes(16));
        }
    }

    [Trait("Security", "16")]
    [Fact]
    public void RecordSuccess_AfterFailures_ClearsAccountAndAddress()
    {
        using var throttle = new LoginThrottle(timeProvider: _time);
        for (var i = 0; i < 4; i++)
        {
            throttle.RecordFailure("10.0.0.1", "alice");
        }

        throttle.RecordSuccess("10.0.0.1", "alice");
        Assert.Equal(0, throttle.TrackedKeys);
        for (var i = 0; i < 4; i++)
        {
            throttle.RecordFailure("10.0.0.1", "alice");
        }

        Assert.False(throttle.IsThrottled("10.0.0.1", "alice", out _));
    }

    [Trait("Security", "16")]
    [Fact]
    public void RecordFailure_ManyDistinctKeys_MemoryBounded()
    {
        using var throttle = new LoginThrottle(new LoginThrottleOptions { MaxEntries = 100 }, _time);
        for (var i = 0; i < 10_000; i++)
        {
            throttle.RecordFailure("10.1." + i, "");
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.InRange(throttle.TrackedKeys, 1, 100);

        // The most recent attacker is still tracked; the oldest were dropped.
        for (var i = 0; i < 5; i++)
        {
            throttle.RecordFailure("10.1.9999", "");
        }

        Assert.True(throttle.IsThrottled("10.1.9999", "", out _));
    }

    [Trait("Security", "16")]
    [Fact]
    public void IsThrottled_EveryPurgeInterval_SweepsExpiredEntries()
    {
        using var throttle = new LoginThrottle(new LoginThrottleOptions { PurgeInterval = 10 }, _time);
        for (var i = 0; i < 50; i++)
        {
            throttle.RecordFailure("10.2." + i, "user" + i);
        }

        Assert.Equal(100, throttle.TrackedKeys);
        _time.Advance(TimeSpan.FromMinutes(15));
        for (var i = 0; i < 10; i++)
        {
            throttle.IsThrottled("192.0.2.1", "nobody", out _);
        }

        Assert.Equal(0, throttle.TrackedKeys);
    }

    [Trait("Security", "16")]
    [Fact]
    public async Task EnterHashingAsync_ManyCallers_AtMostMaxConcurrent()
    {
        using var throttle = new LoginThrottle(new LoginThrottleOptions { MaxConcurrentHashes = 2 }, _time);
        var hasher = new PasswordHasher(PasswordHasherTests.Cheap);
        var current = 0;
        var max = 0;

        async Task HashOnce(int i)
        {
            using (await throttle.EnterHashingAsync())
            {
                var now = Interlocked.Increment(ref current);
                InterlockedMax(ref max, now);
                await Task.Run(() => hasher.Hash("pw" + i));
                await Task.Delay(20);
                Interlocked.Decrement(ref current);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 10).Select(HashOnce));

        Assert.Equal(2, max);
        Assert.Equal(10, hasher.HashCount);
        Assert.Equal(2, throttle.AvailableHashSlots);
    }

    [Trait("Security", "16")]
    [Fact]
    public async Task EnterHashingAsync_AllSlotsTaken_WaitsAndHonoursCancellation()
    {
        using var throttle = new LoginThrottle(new LoginThrottleOptions { MaxConcurrentHashes = 1 }, _time);
        var slot = await throttle.EnterHashingAsync();

        var waiting = throttle.EnterHashingAsync();
        Assert.False(waiting.IsCompleted);

        using var cancel = new CancellationTokenSource();
        var cancelled = throttle.EnterHashingAsync(cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        slot.Dispose();
        slot.Dispose(); // a second dispose must not free a second slot
        using (await waiting.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(0, throttle.AvailableHashSlots);
        }

        Assert.Equal(1, throttle.AvailableHashSlots);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
