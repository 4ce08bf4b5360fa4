using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Memory;

/// <summary>
/// Gives memory back to the system when the server goes idle after a burst of work (a wave of logins, say). The
/// collector's first generation grows to a budget sized from the machine's cache (on the test machine, with its 260
/// MiB L3, 2,500 TLS logins ran without a single collection), so the garbage of a burst, and the native TLS state of
/// the connections it closed, which their finalizers free, stay in the process's memory until the next collection:
/// an idle server may never have one. Every <see cref="IdleMemoryReleaseOptions.Interval"/> this looks at the bytes
/// allocated; when the last interval allocated almost nothing and enough has been allocated since the last collection,
/// it runs a full blocking collection in <see cref="GCCollectionMode.Aggressive"/> mode, the one that returns the
/// freed memory to the system. Measured (docs/performance.md, session 15): W3's server memory per idle connection
/// 31.3 → 17.2 KiB. Only an idle process pays the pause (about 60 ms for an 18 MiB heap on the test machine), and a
/// heap larger than the garbage is left alone. One per process: `parley serve` runs it, not <see cref="ParleyServer"/>.
/// </summary>
public sealed class IdleMemoryRelease : IAsyncDisposable
{
    private readonly IdleMemoryReleaseOptions _options;
    private readonly ILogger _logger;
    private readonly Func<MemorySample> _sample;
    private readonly Action _collect;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private MemorySample _last;
    private long _allocatedAtLastCollection;
    private int _releases;

    public IdleMemoryRelease(IdleMemoryReleaseOptions options, ILogger logger)
        : this(options, logger, MemorySample.Now, static () => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true), start: true)
    {
    }

    /// <summary>For tests: the samples and the collection given, and no timer unless <paramref name="start"/> (they call <see cref="Tick"/>).</summary>
    internal IdleMemoryRelease(IdleMemoryReleaseOptions options, ILogger logger, Func<MemorySample> sample, Action collect, bool start)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Interval, TimeSpan.Zero, nameof(options));
        _options = options;
        _logger = logger;
        _sample = sample;
        _collect = collect;
        _last = sample();
        _allocatedAtLastCollection = _last.AllocatedBytes;
        _loop = start && options.MinimumGarbageBytes > 0 ? RunAsync(_stop.Token) : Task.CompletedTask;
    }

    /// <summary>Collections this has run.</summary>
    public int Releases => Volatile.Read(ref _releases);

    /// <summary>
    /// Whether an idle process should collect now: at most <see cref="IdleMemoryReleaseOptions.IdleAllocationBytes"/>
    /// allocated in the last interval, and since the last collection at least
    /// <see cref="IdleMemoryReleaseOptions.MinimumGarbageBytes"/> and at least the heap that collection left.
    /// </summary>
    public static bool ShouldRelease(long allocatedInInterval, long allocatedSinceCollection, long heapAfterLastCollection, IdleMemoryReleaseOptions options) =>
        options.MinimumGarbageBytes > 0
        && allocatedInInterval <= options.IdleAllocationBytes
        && allocatedSinceCollection >= Math.Max(options.MinimumGarbageBytes, heapAfterLastCollection);

    /// <summary>Looks at the allocations since the last tick and collects if <see cref="ShouldRelease"/>; true when it did.</summary>
    internal bool Tick()
    {
        var now = _sample();
        var previous = _last;
        _last = now;
        if (now.Collections != previous.Collections)
        {
            // The runtime collected since the last look: what was allocated before is gone or kept, not garbage still.
            _allocatedAtLastCollection = now.AllocatedBytes;
            return false;
        }

        var garbage = now.AllocatedBytes - _allocatedAtLastCollection;
        if (!ShouldRelease(now.AllocatedBytes - previous.AllocatedBytes, garbage, now.HeapAfterLastCollection, _options))
        {
            return false;
        }

        var clock = Stopwatch.StartNew();
        _collect();
        _last = _sample();
        _allocatedAtLastCollection = _last.AllocatedBytes;
        Interlocked.Increment(ref _releases);
        Log.IdleMemoryReleased(_logger, garbage >> 20, clock.ElapsedMilliseconds, _last.HeapAfterLastCollection >> 20);
        return true;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Tick();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
