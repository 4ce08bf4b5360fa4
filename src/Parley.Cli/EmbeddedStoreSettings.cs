namespace Parley.Cli;

/// <summary>
/// The `serve` options that tune the embedded SQLite store (ignored in cluster mode): entries staged in a partition
/// before its merge, the staged log's partitions, and the writer connection's page cache in bytes.
/// </summary>
internal sealed record EmbeddedStoreSettings(int StagedEntries, int StagedPartitions, long WriterCacheBytes);
