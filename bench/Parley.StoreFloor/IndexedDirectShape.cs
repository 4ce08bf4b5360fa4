using SQLitePCL;

namespace Parley.StoreFloor;

/// <summary>
/// The plain layout: both copies of each message and its submission inserted straight into the indexed history
/// tables, in the batch's transaction. Every batch dirties index pages all over the tree.
/// </summary>
internal sealed class IndexedDirectShape : StoreShape
{
    private readonly sqlite3_stmt _log;
    private readonly sqlite3_stmt _submit;

    public IndexedDirectShape(FloorDatabase database, MessageSource source)
        : base(database, source)
    {
        database.Execute(HistoryTables);
        _log = database.Prepare("INSERT INTO history.log VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        _submit = database.Prepare("INSERT INTO history.submits VALUES(?1, ?2, ?3, ?4, ?5)");
    }

    public override string Name => "indexed-direct";

    public override string Description => "two log rows and a submission a message straight into the indexed tables";

    public override bool Holds(long messages) =>
        Database.Scalar("SELECT COUNT(*) FROM history.log") == 2 * messages && Database.Scalar("SELECT COUNT(*) FROM history.submits") == messages;

    public override void Add(in FloorMessage message)
    {
        InsertLogRow(_log, message.To, message.RecipientSequence, message, message.SenderSequence);
        InsertLogRow(_log, message.From, message.SenderSequence, message, 0);
        InsertSubmit(_submit, message);
    }
}
