using SQLitePCL;

namespace Parley.StoreFloor;

/// <summary>One row a message (the recipient's copy only) in a rowid table, no index: SQLite's cost of a row.</summary>
internal sealed class RowPerMessageShape : StoreShape
{
    private readonly sqlite3_stmt _insert;

    public RowPerMessageShape(FloorDatabase database, MessageSource source)
        : base(database, source)
    {
        database.Execute($"CREATE TABLE messages({LogColumns})");
        _insert = database.Prepare("INSERT INTO messages VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    }

    public override string Name => "row-per-message";

    public override string Description => "one row a message (the recipient's copy), no index (no history readable by user)";

    public override bool Holds(long messages) => Database.Scalar("SELECT COUNT(*) FROM messages") == messages;

    public override void Add(in FloorMessage message) =>
        InsertLogRow(_insert, message.To, message.RecipientSequence, message, message.SenderSequence);
}
