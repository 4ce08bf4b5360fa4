namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// How the staged log is split by owner (docs/architecture.md, "The staged log"): each partition has its own pair of
/// staged tables and is merged alone when it holds <see cref="SqliteStoreOptions.StagedEntries"/> entries. A merge
/// rewrites at least the tail page of every user it meets in the history file's indexes, so a merge that meets a quarter of
/// the users takes four times the rows per rewritten page: 30 % fewer WAL frames in all and merges half as long
/// (bench/merge-model.py). A user's entries, and the submissions they sent, are all in one partition, so for any one
/// user a merge still moves everything staged, which is what the readers and receipts rely on.
/// Each partition has two pairs of tables, slots 0 and 1 (<see cref="Slots"/>): appends go to one while a merge empties
/// the other, so the merged rows leave by truncating their tables (<c>DELETE FROM</c> without a condition frees whole
/// pages) instead of by deleting thousands of rows one by one, which was about a third of the writer's time in W1
/// (docs/performance.md, session 12).
/// </summary>
internal sealed class StagedPartitions
{
    public StagedPartitions(int count)
    {
        Count = Math.Max(1, count);
        LogTables = [.. Enumerable.Range(0, Count).SelectMany(partition => Enumerable.Range(0, Slots).Select(slot => LogTable(partition, slot)))];
        SubmitTables = [.. Enumerable.Range(0, Count).SelectMany(partition => Enumerable.Range(0, Slots).Select(slot => SubmitTable(partition, slot)))];
    }

    /// <summary>Pairs of staged tables per partition: one takes appends while the other is merged.</summary>
    public const int Slots = 2;

    public int Count { get; }

    /// <summary>Every staged log table: each partition's, slot 0 then slot 1.</summary>
    public IReadOnlyList<string> LogTables { get; }

    /// <summary>Every staged submissions table, in the order of <see cref="LogTables"/>.</summary>
    public IReadOnlyList<string> SubmitTables { get; }

    /// <summary>
    /// Slot 0 keeps the names the tables had before slots (and partition 0 the names from before partitions), so an
    /// older store's staged rows are found; slot 1 adds <c>_b</c>. Every name matches <c>staged_log</c> or
    /// <c>staged_log_[0-9]*</c>, which is how startup finds the tables of any configuration (<see cref="StagedMerge.StagedTables"/>).
    /// </summary>
    public static string LogTable(int partition, int slot) => Name("staged_log", partition, slot);

    public static string SubmitTable(int partition, int slot) => Name("staged_submits", partition, slot);

    private static string Name(string table, int partition, int slot) => (partition, slot) switch
    {
        (0, 0) => table,
        (_, 0) => $"{table}_{partition}",
        _ => $"{table}_{partition}_b",
    };

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
