using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>What a write sees while its batch runs: the connection and transaction, and the entries appended so far.</summary>
internal sealed class WriterContext(SqliteConnection connection, CommandCache commands, AppendStatements statements, LogState state, long now)
{
    /// <summary>Which staged tables an owner's entries and a sender's submissions go to.</summary>
    public StagedPartitions Partitions => State.Partitions;

    public SqliteConnection Connection { get; } = connection;

    /// <summary>Prepared statements for the per-message writes, already joined to the batch's transaction.</summary>
    public CommandCache Commands { get; } = commands;

    /// <summary>The statements of every append, prepared once.</summary>
    public AppendStatements Statements { get; } = statements;

    /// <summary>The insert into the staged log table <paramref name="owner"/>'s entries go to now.</summary>
    public RawStatement StagedLogInsert(string owner)
    {
        var partition = Partitions.Of(owner);
        return Statements.StagedLogInsert(partition, State.ActiveSlot(partition));
    }

    /// <summary>The insert into the staged submissions table <paramref name="sender"/>'s submissions go to now.</summary>
    public RawStatement StagedSubmitInsert(string sender)
    {
        var partition = Partitions.Of(sender);
        return Statements.StagedSubmitInsert(partition, State.ActiveSlot(partition));
    }

    public LogState State { get; } = state;

    /// <summary>Server time for every entry of this batch, Unix milliseconds.</summary>
    public long Now { get; } = now;

    public List<LogEntry> Appended { get; } = [];

    /// <summary>The same entries with what the staged log keeps beside them; added to <see cref="LogState.Staged"/> after commit.</summary>
    public List<StagedEntry> Staged { get; } = [];

    public List<DeliveryReceipt> Receipts { get; } = [];

    /// <summary>The highest cursor each device asked for anywhere in this batch.</summary>
    public Dictionary<(string User, string Device), ulong> CursorTargets { get; } = [];
}
