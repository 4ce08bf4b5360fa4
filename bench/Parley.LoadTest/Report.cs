using System.Globalization;
using System.Text;

namespace Parley.LoadTest;

/// <summary>The Markdown the load test prints: each round's table and, over several rounds, the medians.</summary>
internal static class Report
{
    /// <summary>Stated with every table: the rates mean nothing without the durability they were bought with.</summary>
    public const string FsyncPolicy = "SQLite WAL, synchronous=FULL, group commit";

    public static string Table(IReadOnlyList<ScenarioResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| Scenario | Counted | Messages | Window | Time (s) | Msgs/s | p50 (ms) | p99 (ms) | CPU µs/msg | Sender acks/s |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Counts} | {r.Messages:N0} | {r.Window} | {r.Seconds:F2} | {r.Rate:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.CpuMicros:F0} | {(double.IsNaN(r.SenderAckRate) ? "—" : r.SenderAckRate.ToString("N0", CultureInfo.InvariantCulture))} |"));
        }

        return text.ToString();
    }

    /// <summary>
    /// Per scenario, the median of each column over the rounds, taken column by column (so one row may combine
    /// figures of different rounds; each is still a median of three independent measurements).
    /// </summary>
    public static IReadOnlyList<ScenarioResult> Medians(IReadOnlyList<IReadOnlyList<ScenarioResult>> rounds)
    {
        var medians = new List<ScenarioResult>();
        for (var i = 0; i < rounds[0].Count; i++)
        {
            var column = rounds.Select(round => round[i]).ToList();
            medians.Add(column[0] with
            {
                Seconds = Median(column.Select(r => r.Seconds)),
                Rate = Median(column.Select(r => r.Rate)),
                P50Ms = Median(column.Select(r => r.P50Ms)),
                P99Ms = Median(column.Select(r => r.P99Ms)),
                CpuMicros = Median(column.Select(r => r.CpuMicros)),
                SenderAckRate = Median(column.Select(r => r.SenderAckRate)),
            });
        }

        return medians;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
