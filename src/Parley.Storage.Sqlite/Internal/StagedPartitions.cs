namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// How the staged log is split by owner (docs/architecture.md, "The staged log"): each partition has its own pair of
/// staged tables and is merged alone when it holds <see cref="SqliteStoreOptions.StagedEntries"/> entries. A merge
/// rewrites at least the tail page of every user it meets in the clustered tables, so a merge that meets a quarter of
/// the users takes four times the rows per rewritten page: 30 % fewer WAL frames in all and merges half as long
/// (bench/merge-model.py). A user's entries, and the submissions they sent, are all in one partition, so for any one
/// user a merge still moves everything staged, which is what the readers and receipts rely on.
/// </summary>
internal sealed class StagedPartitions
{
    public StagedPartitions(int count)
    {
        Count = Math.Max(1, count);
        LogTables = [.. Enumerable.Range(0, Count).Select(LogTable)];
        SubmitTables = [.. Enumerable.Range(0, Count).Select(SubmitTable)];
    }

    public int Count { get; }

    /// <summary>The staged log table of each partition.</summary>
    public IReadOnlyList<string> LogTables { get; }

    /// <summary>The staged submissions table of each partition.</summary>
    public IReadOnlyList<string> SubmitTables { get; }

    /// <summary>Partition 0 keeps the names the tables had before partitions, so an older store's staged rows are found.</summary>
    public static string LogTable(int partition) => partition == 0 ? "staged_log" : $"staged_log_{partition}";

    public static string SubmitTable(int partition) => partition == 0 ? "staged_submits" : $"staged_submits_{partition}";

    /// <summary>The partition of a user's log (and of the submissions that user sends): FNV-1a of the name, stable across runs.</summary>
    public int Of(string user)
    {
        if (Count == 1)
        {
            return 0;
        }

        var hash = 2166136261u;
        foreach (var c in user)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)Count);
    }
}
