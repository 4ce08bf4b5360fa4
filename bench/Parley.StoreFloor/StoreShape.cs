using SQLitePCL;

namespace Parley.StoreFloor;

/// <summary>
/// One way of laying messages out in SQLite. <see cref="Add"/> and <see cref="EndBatch"/> run inside the batch's
/// transaction (one commit, one fsync a batch: group commit); <see cref="Merge"/>, for layouts that stage first and
/// index later, runs every so many messages in transactions of its own.
/// </summary>
internal abstract class StoreShape(FloorDatabase database, MessageSource source)
{
    /// <summary>The columns of a log row, as Parley's staged and history tables have them.</summary>
    protected const string LogColumns = """
        owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
        time INTEGER NOT NULL, body TEXT NOT NULL, file_id BLOB, file_name TEXT, file_size INTEGER, file_sha BLOB, sender_seq INTEGER
        """;

    /// <summary>The columns of a submission (the dedupe record of a sender's id), as Parley has them.</summary>
    protected const string SubmitColumns = "sender TEXT NOT NULL, id BLOB NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL";

    /// <summary>Parley's history tables: rowid tables with a unique index on the key (schema 5).</summary>
    protected const string HistoryTables = $"""
        CREATE TABLE history.log({LogColumns});
        CREATE UNIQUE INDEX history.log_by_owner ON log(owner, seq);
        CREATE TABLE history.submits({SubmitColumns});
        CREATE UNIQUE INDEX history.submits_by_sender ON submits(sender, id);
        """;

    public abstract string Name { get; }

    /// <summary>What the layout writes, and whether a user's history can be read from it.</summary>
    public abstract string Description { get; }

    public virtual bool Merges => false;

    protected FloorDatabase Database { get; } = database;

    protected MessageSource Source { get; } = source;

    public abstract void Add(in FloorMessage message);

    /// <summary>
    /// After a run of <paramref name="messages"/> (every merge done): whether the store holds what the layout says it
    /// writes, so that no layout looks cheap by writing less. Counted with SQL.
    /// </summary>
    public abstract bool Holds(long messages);

    public virtual void EndBatch()
    {
    }

    public virtual void Merge()
    {
    }

    /// <summary>Binds a 12-column log row (a plain message: the file columns NULL) and runs the insert.</summary>
    protected void InsertLogRow(sqlite3_stmt insert, int owner, long sequence, in FloorMessage message, long senderSequence)
    {
        FloorDatabase.Bind(insert, 1, Source.Users[owner]);
        FloorDatabase.Bind(insert, 2, sequence);
        FloorDatabase.BindBlob(insert, 3, message.Id);
        FloorDatabase.Bind(insert, 4, Source.Users[message.From]);
        FloorDatabase.Bind(insert, 5, Source.Users[message.To]);
        FloorDatabase.Bind(insert, 6, message.Time);
        FloorDatabase.Bind(insert, 7, Source.Text);
        for (var column = 8; column <= 11; column++)
        {
            FloorDatabase.BindNull(insert, column);
        }

        FloorDatabase.Bind(insert, 12, senderSequence);
        Database.Step(insert);
    }

    /// <summary>Binds a submission and runs the insert.</summary>
    protected void InsertSubmit(sqlite3_stmt insert, in FloorMessage message)
    {
        FloorDatabase.Bind(insert, 1, Source.Users[message.From]);
        FloorDatabase.BindBlob(insert, 2, message.Id);
        FloorDatabase.BindBlob(insert, 3, Source.Digest);
        FloorDatabase.Bind(insert, 4, message.SenderSequence);
        FloorDatabase.Bind(insert, 5, message.Time);
        Database.Step(insert);
    }
}
