namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// One partition's merge: its staged rows up to these rowids, which were all committed when the writer took the job
/// and are exactly the entries <see cref="StagedLog.Freeze"/> set aside in memory.
/// </summary>
internal readonly record struct MergeJob(int Partition, long LastLogRow, long LastSubmitRow);
