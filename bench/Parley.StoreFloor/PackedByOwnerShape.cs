using SQLitePCL;

namespace Parley.StoreFloor;

/// <summary>
/// The cheapest layout found that still reads a user's history by sequence: batches staged as blobs (as
/// <see cref="BatchBlobShape"/>), and at each merge, per owner, one row holding all that owner's entries since the
/// last merge (indexed by owner and first sequence), plus the submissions (indexed by sender and id, for dedupe),
/// bound from the entries kept in memory. Reading then means decoding blobs.
/// </summary>
internal sealed class PackedByOwnerShape : StoreShape
{
    private readonly EntryEncoder _batch = new();
    private readonly sqlite3_stmt _stage;
    private readonly sqlite3_stmt _packed;
    private readonly sqlite3_stmt _submit;
    private readonly sqlite3_stmt _emptyStaged;
    private readonly List<FloorMessage> _sinceMerge = [];
    private readonly EntryEncoder[] _owners;
    private readonly long[] _first;
    private readonly long[] _last;

    public PackedByOwnerShape(FloorDatabase database, MessageSource source)
        : base(database, source)
    {
        database.Execute($"""
            CREATE TABLE batches(data BLOB NOT NULL);
            CREATE TABLE history.packed(owner TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, entries BLOB NOT NULL);
            CREATE UNIQUE INDEX history.packed_by_owner ON packed(owner, first_seq);
            CREATE TABLE history.submits({SubmitColumns});
            CREATE UNIQUE INDEX history.submits_by_sender ON submits(sender, id);
            """);
        _stage = database.Prepare("INSERT INTO batches(data) VALUES(?1)");
        _packed = database.Prepare("INSERT OR IGNORE INTO history.packed VALUES(?1, ?2, ?3, ?4)");
        _submit = database.Prepare("INSERT OR IGNORE INTO history.submits VALUES(?1, ?2, ?3, ?4, ?5)");
        _emptyStaged = database.Prepare("DELETE FROM main.batches");
        _owners = [.. source.Users.Select(_ => new EntryEncoder())];
        _first = new long[source.Users.Length];
        _last = new long[source.Users.Length];
    }

    public override string Name => "packed-by-owner";

    public override string Description => "batches staged as blobs; merged as one row an owner a merge, plus submissions indexed";

    public override bool Merges => true;

    public override bool Holds(long messages) =>
        Database.Scalar("SELECT SUM(last_seq - first_seq + 1) FROM history.packed") == 2 * messages
        && Database.Scalar("SELECT COUNT(*) FROM history.submits") == messages && Database.Scalar("SELECT COUNT(*) FROM main.batches") == 0;

    public override void Add(in FloorMessage message)
    {
        _batch.Add(Source.Users[message.To], message.RecipientSequence, message, Source, message.SenderSequence);
        _batch.Add(Source.Users[message.From], message.SenderSequence, message, Source, 0);
        _sinceMerge.Add(message);
    }

    public override void EndBatch()
    {
        FloorDatabase.BindBlob(_stage, 1, _batch.Written);
        Database.Step(_stage);
        _batch.Clear();
    }

    public override void Merge()
    {
        foreach (var message in _sinceMerge)
        {
            Pack(message.To, message.RecipientSequence, message, message.SenderSequence);
            Pack(message.From, message.SenderSequence, message, 0);
        }

        Database.Begin();
        for (var owner = 0; owner < _owners.Length; owner++)
        {
            if (_owners[owner].Length == 0)
            {
                continue;
            }

            FloorDatabase.Bind(_packed, 1, Source.Users[owner]);
            FloorDatabase.Bind(_packed, 2, _first[owner]);
            FloorDatabase.Bind(_packed, 3, _last[owner]);
            FloorDatabase.BindBlob(_packed, 4, _owners[owner].Written);
            Database.Step(_packed);
            _owners[owner].Clear();
        }

        foreach (var message in _sinceMerge)
        {
            InsertSubmit(_submit, message);
        }

        Database.Commit();
        _sinceMerge.Clear();
        Database.Begin();
        Database.Step(_emptyStaged);
        Database.Commit();
    }

    private void Pack(int owner, long sequence, in FloorMessage message, long senderSequence)
    {
        if (_owners[owner].Length == 0)
        {
            _first[owner] = sequence;
        }

        _last[owner] = sequence;
        _owners[owner].Add(Source.Users[owner], sequence, message, Source, senderSequence);
    }
}
