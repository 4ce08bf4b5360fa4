namespace Parley.Cli;

/// <summary>
/// The `serve` options that tune the embedded SQLite store (ignored in cluster mode): entries staged in a partition
/// before its merge, the staged log's partitions, the writer connection's page cache in bytes, and how many times the
/// staged entries a partition may hold while its merge runs before the writer waits for merges.
/// </summary>
internal sealed record EmbeddedStoreSettings(int StagedEntries, int StagedPartitions, long WriterCacheBytes, int MaxStagedFactor);
