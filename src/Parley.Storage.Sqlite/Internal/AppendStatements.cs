using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>The statements every append and cursor move runs, prepared once on the writer's connection (<see cref="RawStatement"/>).</summary>
internal sealed class AppendStatements : IDisposable
{
    public AppendStatements(SqliteConnection connection, StagedPartitions partitions)
    {
        FindSubmit = new(connection, "SELECT digest, seq, time FROM submits WHERE sender = ?1 AND id = ?2");
        InsertStaged = [.. partitions.LogTables.Select(table => new RawStatement(connection,
            $"INSERT INTO {table}({StagedMerge.LogColumns}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"))];
        InsertStagedSubmit = [.. partitions.SubmitTables.Select(table => new RawStatement(connection,
            $"INSERT INTO {table}({StagedMerge.SubmitColumns}) VALUES (?1, ?2, ?3, ?4, ?5)"))];
        UpsertDevice = new(connection,
            "INSERT INTO devices(user, device, acked, seen) VALUES (?1, ?2, ?3, ?4) " +
            "ON CONFLICT(user, device) DO UPDATE SET acked = MAX(acked, excluded.acked), seen = excluded.seen");
    }

    /// <summary>A merged submission by (sender, id): digest, seq, time.</summary>
    public RawStatement FindSubmit { get; }

    /// <summary>A staged log entry, one statement per table, in the order of <see cref="StagedPartitions.LogTables"/>.</summary>
    private IReadOnlyList<RawStatement> InsertStaged { get; }

    /// <summary>A staged submission, one statement per table, in the order of <see cref="StagedPartitions.SubmitTables"/>.</summary>
    private IReadOnlyList<RawStatement> InsertStagedSubmit { get; }

    /// <summary>The insert of a staged log entry into <paramref name="partition"/>'s table in <paramref name="slot"/>.</summary>
    public RawStatement StagedLogInsert(int partition, int slot) => InsertStaged[(partition * StagedPartitions.Slots) + slot];

    /// <summary>The insert of a staged submission into <paramref name="partition"/>'s table in <paramref name="slot"/>.</summary>
    public RawStatement StagedSubmitInsert(int partition, int slot) => InsertStagedSubmit[(partition * StagedPartitions.Slots) + slot];

    /// <summary>Moves a device's cursor (never back) and records when it was last seen.</summary>
    public RawStatement UpsertDevice { get; }

    public void Dispose()
    {
        UpsertDevice.Dispose();
        FindSubmit.Dispose();
        foreach (var statement in InsertStaged.Concat(InsertStagedSubmit))
        {
            statement.Dispose();
        }
    }
}
