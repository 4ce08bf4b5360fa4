namespace Parley.Storage.Sqlite;

/// <summary>Where the SQLite store keeps its files, and its quotas.</summary>
public sealed record SqliteStoreOptions(string Path)
{
    /// <summary>
    /// The second file, which holds the merged, indexed log and the dedupe records (docs/architecture.md, "The history
    /// file"): merges write it on their own thread while the writer goes on committing appends to <see cref="Path"/>.
    /// By default beside <see cref="Path"/>, with ".history" before the extension (parley.db: parley.history.db). The
    /// two files are one store: back them up, move them and delete them together.
    /// </summary>
    public string HistoryPath { get; init; } = DefaultHistoryPath(Path);

    public StoreLimits Limits { get; init; } = new();

    /// <summary>
    /// Page cache of the writer's connection (SQLite's default is 2 MiB). Every append touches the tail page of two
    /// users' logs and of the sender's dedupe records; once those pages outgrow the cache, each batch reads them back
    /// from the file: with 2 MiB, W1 on a store holding a few million messages read 2.9 GB for 150,000 messages
    /// (docs/performance.md). Memory, not durability: the WAL and fsync policy are unchanged.
    /// </summary>
    public long WriterCacheBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// How many committed log entries may wait in one partition's append-only staged tables (and in memory, for
    /// readers) before the writer merges them into the indexed log in one sorted pass (docs/architecture.md, "The
    /// staged log"). Larger means fewer, longer merges and more memory (an entry is its text plus about 150 bytes).
    /// </summary>
    public int StagedEntries { get; init; } = 8192;

    /// <summary>
    /// How many times <see cref="StagedEntries"/> one partition may hold while its merge runs on the merge thread
    /// (docs/architecture.md, "The history file"): usually about twice, as appends go on beside a merge; should merges
    /// fall behind, the writer waits for them at this bound, so the staged log and the memory that mirrors it stay
    /// bounded and appends are held back instead. At least 2.
    /// </summary>
    public int MaxStagedFactor { get; init; } = 4;

    /// <summary>
    /// How many partitions the staged log is split into by owner (docs/architecture.md, "The staged log"). Each is merged
    /// alone when it holds <see cref="StagedEntries"/> entries, so up to this many times <see cref="StagedEntries"/>
    /// entries wait in the staged tables and in memory. More partitions mean fewer users per merge, so fewer pages
    /// rewritten per entry and shorter merges (bench/merge-model.py: 4 partitions, 30 % fewer WAL frames and merges of
    /// 35 ms instead of 54), for a few more tail pages per commit. 1 is the single staged log of before.
    /// </summary>
    public int StagedPartitions { get; init; } = 4;

    /// <summary>The server's clock; tests may pass a fake.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    private static string DefaultHistoryPath(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path) ?? "";
        var name = System.IO.Path.GetFileNameWithoutExtension(path) + ".history" + System.IO.Path.GetExtension(path);
        return System.IO.Path.Combine(directory, name);
    }
}
