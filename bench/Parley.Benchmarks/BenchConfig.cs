using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Parley.Benchmarks;

/// <summary>
/// The one configuration every benchmark class uses. The job is deliberately short (one launch, three warm-ups,
/// five measured iterations) so that the whole suite runs in a few minutes on a shared two-core machine; the
/// numbers are for spotting regressions and hot spots, not for publishing. Allocations matter as much as time on
/// the message path, hence the memory diagnoser.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.ShortRun
            .WithWarmupCount(3)
            .WithIterationCount(5)
            .WithId("Short"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.P95);
        // A benchmark that fails (for example a store refusing an append) must not vanish into a table without it.
        WithOption(ConfigOptions.StopOnFirstError, true);
    }
}
