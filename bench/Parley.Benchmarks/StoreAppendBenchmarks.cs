using BenchmarkDotNet.Attributes;
using Parley.Protocol;
using Parley.Storage;
using Parley.Storage.Sqlite;

namespace Parley.Benchmarks;

/// <summary>
/// SqliteChatStore.AppendAsync on a real file in the temp directory (WAL, synchronous=FULL, so every commit is an
/// fsync). Each invocation appends <see cref="OperationsPerInvoke"/> 100-byte messages from alice to bob with
/// <see cref="Concurrency"/> of them in flight at once, which is what decides how many the writer thread can put in
/// one group commit: at 1 every message pays a whole fsync, at 256 (the server's per-connection send window) one
/// fsync is shared by up to 256. Times are per message.
/// </summary>
/// <remarks>
/// Every iteration starts from a new, empty store file. With one file for the whole run the store grew to some
/// 100,000 messages and the per-message time rose from iteration to iteration (the random-keyed dedupe index
/// outgrows SQLite's page cache), so the iterations measured different things. A fixed invocation count bounds the
/// file at <see cref="InvocationsPerIteration"/> × <see cref="OperationsPerInvoke"/> messages.
/// </remarks>
[Config(typeof(BenchConfig))]
[InvocationCount(InvocationsPerIteration, 1)]
public class StoreAppendBenchmarks
{
    /// <summary>Divisible by every <see cref="Concurrency"/> value, so each in-flight lane gets the same share.</summary>
    public const int OperationsPerInvoke = 256;

    /// <summary>4,096 messages per iteration: long enough to time, short enough at one fsync per message.</summary>
    public const int InvocationsPerIteration = 16;

    private string _directory = "";
    private SqliteChatStore? _store;

    [Params(1, 8, 64, 256)]
    public int Concurrency { get; set; }

    [IterationSetup]
    public void OpenFreshStore()
    {
        _directory = Path.Combine(Path.GetTempPath(), "parley-bench-" + Guid.NewGuid().ToString("N"));
        // The default quota (10,000 unacknowledged per recipient) would turn appends past it into a cheap
        // QueueFull refusal. The quota check is an in-memory lookup either way, so lifting the limit leaves the
        // measured path unchanged.
        var options = new SqliteStoreOptions(Path.Combine(_directory, "parley.db"))
        {
            Limits = new StoreLimits { MaxUnacknowledgedPerUser = int.MaxValue },
        };
        _store = SqliteChatStore.Open(options);
        // BenchmarkDotNet's setup hooks are synchronous here; nothing else runs on this thread meanwhile.
        _store.CreateUserAsync("alice", "unused-hash").GetAwaiter().GetResult();
        _store.CreateUserAsync("bob", "unused-hash").GetAwaiter().GetResult();
    }

    [IterationCleanup]
    public void CloseStore()
    {
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _store = null;
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public async Task Append()
    {
        var lanes = new Task[Concurrency];
        for (var i = 0; i < lanes.Length; i++)
        {
            lanes[i] = RunLaneAsync(OperationsPerInvoke / Concurrency);
        }

        await Task.WhenAll(lanes);
    }

    private async Task RunLaneAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var result = await _store!.AppendAsync(new Submission("alice", MessageId.NewTimeOrdered(), "bob", SampleFrames.Text100));
            if (result.Status != AppendStatus.Stored)
            {
                // Anything but Stored took a shortcut past the inserts and would make the figure meaningless.
                throw new InvalidOperationException($"append returned {result.Status}");
            }
        }
    }
}
