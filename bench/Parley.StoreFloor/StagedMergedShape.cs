using SQLitePCL;

namespace Parley.StoreFloor;

/// <summary>
/// Parley's layout (docs/architecture.md, "The staged log"): two log rows and a submission a message into rowid
/// tables of the main file, and at each merge one <c>INSERT … SELECT</c> of them into the history file's indexed
/// tables, then the staged tables emptied.
/// </summary>
internal sealed class StagedMergedShape : StoreShape
{
    private readonly sqlite3_stmt _log;
    private readonly sqlite3_stmt _submit;
    private readonly sqlite3_stmt[] _merge;

    public StagedMergedShape(FloorDatabase database, MessageSource source)
        : base(database, source)
    {
        database.Execute($"CREATE TABLE staged_log({LogColumns}); CREATE TABLE staged_submits({SubmitColumns}); {HistoryTables}");
        _log = database.Prepare("INSERT INTO staged_log VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        _submit = database.Prepare("INSERT INTO staged_submits VALUES(?1, ?2, ?3, ?4, ?5)");
        _merge =
        [
            database.Prepare("INSERT OR IGNORE INTO history.log SELECT * FROM main.staged_log"),
            database.Prepare("INSERT OR IGNORE INTO history.submits SELECT * FROM main.staged_submits"),
            database.Prepare("DELETE FROM main.staged_log"),
            database.Prepare("DELETE FROM main.staged_submits"),
        ];
    }

    public override string Name => "staged-merged (Parley)";

    public override string Description => "two log rows and a submission a message into rowid tables; merged into the indexed tables";

    public override bool Merges => true;

    public override bool Holds(long messages) =>
        Database.Scalar("SELECT COUNT(*) FROM history.log") == 2 * messages && Database.Scalar("SELECT COUNT(*) FROM history.submits") == messages
        && Database.Scalar("SELECT COUNT(*) FROM main.staged_log") == 0;

    public override void Add(in FloorMessage message)
    {
        InsertLogRow(_log, message.To, message.RecipientSequence, message, message.SenderSequence);
        InsertLogRow(_log, message.From, message.SenderSequence, message, 0);
        InsertSubmit(_submit, message);
    }

    public override void Merge()
    {
        // Two transactions, as in Parley: the copy into the history file, then the staged tables emptied.
        Database.Begin();
        Database.Step(_merge[0]);
        Database.Step(_merge[1]);
        Database.Commit();
        Database.Begin();
        Database.Step(_merge[2]);
        Database.Step(_merge[3]);
        Database.Commit();
    }
}
