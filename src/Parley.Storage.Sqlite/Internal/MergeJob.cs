namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// One partition's merge: the staged rows of one of its slots up to these rowids (all of them: appends moved to the
/// other slot when the writer took the job), which were all committed then and are exactly the entries
/// <see cref="StagedLog.Freeze"/> set aside in memory.
/// </summary>
internal readonly record struct MergeJob(int Partition, int Slot, long LastLogRow, long LastSubmitRow);
