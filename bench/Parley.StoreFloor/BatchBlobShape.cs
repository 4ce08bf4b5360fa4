using SQLitePCL;

namespace Parley.StoreFloor;

/// <summary>
/// The least a durable SQLite write can be: the batch's entries (both copies of each message, and its submission's
/// digest) packed into one blob, one row a batch, no index. Nothing can read a user's history out of it; it is the
/// bound under any layout that can.
/// </summary>
internal sealed class BatchBlobShape : StoreShape
{
    private readonly EntryEncoder _batch = new();
    private readonly sqlite3_stmt _insert;

    public BatchBlobShape(FloorDatabase database, MessageSource source)
        : base(database, source)
    {
        database.Execute("CREATE TABLE batches(data BLOB NOT NULL)");
        _insert = database.Prepare("INSERT INTO batches(data) VALUES(?1)");
    }

    public override string Name => "batch-blob";

    public override string Description => "one blob row a batch holding both copies of each message; no index (no history readable)";

    public override void Add(in FloorMessage message)
    {
        _batch.Add(Source.Users[message.To], message.RecipientSequence, message, Source, message.SenderSequence);
        _batch.Add(Source.Users[message.From], message.SenderSequence, message, Source, 0);
    }

    public override bool Holds(long messages) =>
        Database.Scalar("SELECT SUM(length(data)) FROM batches") >= messages * 2 * Source.Text.Length;

    public override void EndBatch()
    {
        FloorDatabase.BindBlob(_insert, 1, _batch.Written);
        Database.Step(_insert);
        _batch.Clear();
    }
}
