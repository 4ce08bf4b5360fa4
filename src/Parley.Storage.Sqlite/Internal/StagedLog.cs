namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// The committed log entries that are still in the append-only staged tables and not yet merged into the <c>log</c>
/// table (docs/architecture.md, "The staged log"). Readers on any thread see them here; the writer thread adds a
/// batch's entries after its commit; a merge sets aside what a partition holds when it starts (<see cref="Freeze"/>)
/// and the writer takes those entries only after the merge has committed (<see cref="TakeFrozen"/>), so an entry is
/// always in the <c>log</c> table, here, or both (while a merge finishes), never in neither. Readers take their
/// snapshot from here before they query the <c>log</c> table and take the union by sequence. All of an owner's
/// entries are in one partition (<see cref="StagedPartitions"/>), and a merge takes the oldest of them, so each
/// owner's staged entries are always the newest of their log.
/// </summary>
internal sealed class StagedLog(StagedPartitions partitions)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<StagedEntry>> _byOwner = new(StringComparer.Ordinal);
    private readonly int[] _counts = new int[partitions.Count];

    /// <summary>Per partition under merge, how many of each owner's first entries the merge takes (<see cref="Freeze"/>).</summary>
    private readonly Dictionary<string, int>?[] _frozen = new Dictionary<string, int>?[partitions.Count];
    private readonly int[] _frozenCounts = new int[partitions.Count];

    /// <summary>Adds committed entries; each owner's entries arrive in ascending sequence.</summary>
    public void Add(IEnumerable<StagedEntry> entries)
    {
        lock (_gate)
        {
            foreach (var entry in entries)
            {
                if (!_byOwner.TryGetValue(entry.Entry.Owner, out var list))
                {
                    list = [];
                    _byOwner[entry.Entry.Owner] = list;
                }

                list.Add(entry);
                _counts[partitions.Of(entry.Entry.Owner)]++;
            }
        }
    }

    /// <summary>
    /// Sets aside what <paramref name="partition"/> holds now, each owner's entries so far, for a merge of the rows
    /// committed so far (<see cref="MergeJob"/>); entries added later are not part of it. One merge per partition at a time.
    /// </summary>
    public void Freeze(int partition)
    {
        lock (_gate)
        {
            var frozen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (owner, list) in _byOwner)
            {
                if (partitions.Of(owner) == partition && list.Count > 0)
                {
                    frozen[owner] = list.Count;
                }
            }

            _frozen[partition] = frozen;
            _frozenCounts[partition] = frozen.Values.Sum();
        }
    }

    /// <summary>Whether a merge of <paramref name="partition"/> is under way (<see cref="Freeze"/> without <see cref="TakeFrozen"/>).</summary>
    public bool IsFrozen(int partition)
    {
        lock (_gate)
        {
            return _frozen[partition] is not null;
        }
    }

    /// <summary>Entries of <paramref name="partition"/> that no merge has set aside yet.</summary>
    public int UnfrozenCountIn(int partition)
    {
        lock (_gate)
        {
            return _counts[partition] - _frozenCounts[partition];
        }
    }

    /// <summary>
    /// Forgets the entries <see cref="Freeze"/> set aside and hands them over, by owner: called after their merge into
    /// the history file and their delete from the staged tables have both committed. Each owner's later entries stay.
    /// </summary>
    public Dictionary<string, List<StagedEntry>> TakeFrozen(int partition)
    {
        lock (_gate)
        {
            var taken = new Dictionary<string, List<StagedEntry>>(StringComparer.Ordinal);
            foreach (var (owner, count) in _frozen[partition] ?? [])
            {
                var list = _byOwner[owner];
                taken[owner] = list.GetRange(0, count);
                if (count == list.Count)
                {
                    _byOwner.Remove(owner);
                }
                else
                {
                    list.RemoveRange(0, count);
                }
            }

            _counts[partition] -= _frozenCounts[partition];
            _frozen[partition] = null;
            _frozenCounts[partition] = 0;
            return taken;
        }
    }

    /// <summary>The lowest staged sequence of <paramref name="owner"/>, or 0: every entry below it is in the log table.</summary>
    public ulong First(string owner)
    {
        lock (_gate)
        {
            return _byOwner.TryGetValue(owner, out var list) && list.Count > 0 ? list[0].Entry.Sequence : 0;
        }
    }

    /// <summary>The highest staged sequence of <paramref name="owner"/>, or 0.</summary>
    public ulong Head(string owner)
    {
        lock (_gate)
        {
            return _byOwner.TryGetValue(owner, out var list) && list.Count > 0 ? list[^1].Entry.Sequence : 0;
        }
    }

    /// <summary>
    /// Whether every entry of <paramref name="owner"/> after <paramref name="after"/> is staged, so none is only in the
    /// log table: a merge moves the owner's oldest staged entries, so staged sequences are always the newest.
    /// </summary>
    public bool AllStagedAfter(string owner, ulong after)
    {
        lock (_gate)
        {
            return _byOwner.TryGetValue(owner, out var list) && list.Count > 0 && list[0].Entry.Sequence <= after + 1;
        }
    }

    /// <summary>Up to <paramref name="max"/> entries of <paramref name="owner"/> after <paramref name="after"/>, ascending.</summary>
    public List<LogEntry> After(string owner, ulong after, int max)
    {
        var result = new List<LogEntry>();
        lock (_gate)
        {
            if (!_byOwner.TryGetValue(owner, out var list))
            {
                return result;
            }

            for (var i = FirstAfter(list, after); i < list.Count && result.Count < max; i++)
            {
                result.Add(list[i].Entry);
            }
        }

        return result;
    }

    /// <summary>
    /// Up to <paramref name="max"/> entries of <paramref name="owner"/> before <paramref name="before"/> (0: no bound),
    /// newest first, only those with <paramref name="peer"/> when given.
    /// </summary>
    public List<LogEntry> Before(string owner, ulong before, int max, string? peer)
    {
        var result = new List<LogEntry>();
        lock (_gate)
        {
            if (!_byOwner.TryGetValue(owner, out var list))
            {
                return result;
            }

            for (var i = list.Count - 1; i >= 0 && result.Count < max; i--)
            {
                var entry = list[i].Entry;
                if ((before == 0 || entry.Sequence < before) && (peer is null || entry.From == peer || entry.To == peer))
                {
                    result.Add(entry);
                }
            }
        }

        return result;
    }

    /// <summary>Entries of <paramref name="owner"/> after <paramref name="after"/> that someone else sent.</summary>
    public ulong ReceivedAfter(string owner, ulong after)
    {
        ulong count = 0;
        lock (_gate)
        {
            if (_byOwner.TryGetValue(owner, out var list))
            {
                for (var i = FirstAfter(list, after); i < list.Count; i++)
                {
                    if (list[i].Entry.From != owner)
                    {
                        count++;
                    }
                }
            }
        }

        return count;
    }

    /// <summary>
    /// For each sender of an entry of <paramref name="owner"/> in (<paramref name="after"/>, <paramref name="upTo"/>],
    /// the highest place of that message in the sender's own log, raised into <paramref name="newest"/>.
    /// </summary>
    public void NewestPerSender(string owner, ulong after, ulong upTo, Dictionary<string, ulong> newest)
    {
        lock (_gate)
        {
            if (!_byOwner.TryGetValue(owner, out var list))
            {
                return;
            }

            for (var i = FirstAfter(list, after); i < list.Count && list[i].Entry.Sequence <= upTo; i++)
            {
                var (entry, senderSequence) = list[i];
                if (entry.From != owner && senderSequence > 0 && (!newest.TryGetValue(entry.From, out var known) || known < senderSequence))
                {
                    newest[entry.From] = senderSequence;
                }
            }
        }
    }

    private static int FirstAfter(List<StagedEntry> list, ulong after) => SequenceSearch.FirstAfter(list, after, static staged => staged.Entry.Sequence);
}
