using BenchmarkDotNet.Attributes;
using Parley.Protocol;
using Parley.Storage;
using Parley.Storage.Sqlite;

namespace Parley.Benchmarks;

/// <summary>
/// The same append as <see cref="StoreAppendBenchmarks"/> (alice to bob, 64 in flight, default quota of 10,000
/// unacknowledged), but with bob's log already holding a backlog that no device of bob's has acknowledged:
/// <list type="bullet">
/// <item><c>none</c>: an empty log, the baseline.</item>
/// <item><c>own-20000</c>: 20,000 messages bob sent himself, as a user who only ever uses `parley send` (which never
/// SYNCs or ACKs) accumulates. They do not count against his quota, but they push the store's cheap upper bound past
/// the limit, so the exact count query runs on every append to him.</item>
/// <item><c>full-10000</c>: 10,000 messages bob received and never acknowledged, so every further append to him is
/// refused (RecipientQueueFull); what a refusal costs is what a sender hammering a full mailbox costs the server.</item>
/// </list>
/// The backlog is built once per case into a template file; every iteration works on a fresh copy of it, so the
/// iterations do not drift as the log grows.
/// </summary>
[Config(typeof(BenchConfig))]
[InvocationCount(InvocationsPerIteration, 1)]
public class StoreBacklogBenchmarks
{
    public const int OperationsPerInvoke = 256;

    /// <summary>1,024 appends per iteration: the measured appends stay well under the 10,000 quota in every case.</summary>
    public const int InvocationsPerIteration = 4;

    private const int Concurrency = 64;

    private string _template = "";
    private string _directory = "";
    private SqliteChatStore? _store;

    [Params("none", "own-20000", "full-10000")]
    public string Backlog { get; set; } = "none";

    [GlobalSetup]
    public async Task BuildTemplateAsync()
    {
        _template = Path.Combine(Path.GetTempPath(), "parley-bench-template-" + Guid.NewGuid().ToString("N"));
        var store = SqliteChatStore.Open(new SqliteStoreOptions(Path.Combine(_template, "parley.db")));
        await store.CreateUserAsync("alice", "unused-hash");
        await store.CreateUserAsync("bob", "unused-hash");
        // Bob's 20,000 go to three others, so that no recipient of his reaches the quota while the backlog is built.
        string[] others = ["carol", "dave", "erin"];
        foreach (var other in others)
        {
            await store.CreateUserAsync(other, "unused-hash");
        }

        var (from, to, count) = Backlog switch
        {
            "own-20000" => ("bob", others, 20_000),
            "full-10000" => ("carol", ["bob"], 10_000),
            _ => ("", Array.Empty<string>(), 0),
        };
        // Built through the store itself, 256 at a time, so the rows are exactly what the server would have written.
        for (var done = 0; done < count; done += 256)
        {
            var batch = Enumerable.Range(done, Math.Min(256, count - done))
                .Select(i => store.AppendAsync(new Submission(from, MessageId.NewTimeOrdered(), to[i % to.Length], SampleFrames.Text100)));
            foreach (var result in await Task.WhenAll(batch))
            {
                if (result.Status != AppendStatus.Stored)
                {
                    throw new InvalidOperationException($"building the backlog: append returned {result.Status}");
                }
            }
        }

        // Closing the last connection checkpoints the WAL into the main file, so the template is one file.
        await store.DisposeAsync();
    }

    [GlobalCleanup]
    public void DeleteTemplate() => Directory.Delete(_template, recursive: true);

    [IterationSetup]
    public void OpenCopy()
    {
        _directory = Path.Combine(Path.GetTempPath(), "parley-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        foreach (var file in Directory.GetFiles(_template))
        {
            File.Copy(file, Path.Combine(_directory, Path.GetFileName(file)));
        }

        _store = SqliteChatStore.Open(new SqliteStoreOptions(Path.Combine(_directory, "parley.db")));
    }

    [IterationCleanup]
    public void CloseCopy()
    {
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _store = null;
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public async Task AppendToBob()
    {
        var expected = Backlog == "full-10000" ? AppendStatus.QueueFull : AppendStatus.Stored;
        var lanes = new Task[Concurrency];
        for (var i = 0; i < lanes.Length; i++)
        {
            lanes[i] = RunLaneAsync(OperationsPerInvoke / Concurrency, expected);
        }

        await Task.WhenAll(lanes);
    }

    private async Task RunLaneAsync(int count, AppendStatus expected)
    {
        for (var i = 0; i < count; i++)
        {
            var result = await _store!.AppendAsync(new Submission("alice", MessageId.NewTimeOrdered(), "bob", SampleFrames.Text100));
            if (result.Status != expected)
            {
                throw new InvalidOperationException($"append returned {result.Status}, expected {expected}");
            }
        }
    }
}
