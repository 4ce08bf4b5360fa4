namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// For the entries of the last few merges, where each came from: (owner's sequence, sender, the sender's sequence). A
/// device acknowledges some time after the entries were staged, and under load a merge (every
/// <see cref="SqliteStoreOptions.StagedEntries"/>) often falls in between; without this, the receipts of almost every
/// acknowledgement then needed a join of the log and dedupe tables (40 µs of the writer's time each under W2). Writer
/// thread only. Holds compact records, not the messages, and at most <c>capacity</c> of them.
/// </summary>
internal sealed class RecentlyMerged(int capacity)
{
    private readonly Queue<Dictionary<string, List<Source>>> _generations = new();
    private int _count;

    /// <summary>Adds the entries of a merge that has committed, and drops the oldest merges beyond the capacity.</summary>
    public void Add(Dictionary<string, List<StagedEntry>> merged)
    {
        var generation = new Dictionary<string, List<Source>>(merged.Count, StringComparer.Ordinal);
        var count = 0;
        foreach (var (owner, entries) in merged)
        {
            var sources = new List<Source>(entries.Count);
            foreach (var (entry, senderSequence) in entries)
            {
                sources.Add(new Source(entry.Sequence, entry.From, senderSequence));
            }

            generation[owner] = sources;
            count += sources.Count;
        }

        _generations.Enqueue(generation);
        _count += count;
        while (_count > capacity && _generations.Count > 0)
        {
            _count -= _generations.Dequeue().Values.Sum(sources => sources.Count);
        }
    }

    /// <summary>Forgets everything (a failed transaction; the next receipts take the join).</summary>
    public void Clear()
    {
        _generations.Clear();
        _count = 0;
    }

    /// <summary>
    /// Whether the merges kept here, with the staged entries after them, hold every entry of <paramref name="owner"/>
    /// after <paramref name="after"/>: each merge moved all that was staged, so together they are contiguous.
    /// </summary>
    public bool HoldsAllAfter(string owner, ulong after)
    {
        foreach (var generation in _generations)
        {
            if (generation.TryGetValue(owner, out var sources) && sources.Count > 0)
            {
                return sources[0].Sequence <= after + 1;
            }
        }

        return false;
    }

    /// <summary>As <see cref="StagedLog.NewestPerSender"/>, over the merges kept here.</summary>
    public void NewestPerSender(string owner, ulong after, ulong upTo, Dictionary<string, ulong> newest)
    {
        foreach (var generation in _generations)
        {
            if (!generation.TryGetValue(owner, out var sources))
            {
                continue;
            }

            // Searched, not scanned: one busy owner can have thousands of entries in a merge, and this runs on the
            // writer thread for every cursor move.
            for (var i = SequenceSearch.FirstAfter(sources, after, static source => source.Sequence); i < sources.Count && sources[i].Sequence <= upTo; i++)
            {
                var (_, from, senderSequence) = sources[i];
                if (from != owner && senderSequence > 0 && (!newest.TryGetValue(from, out var known) || known < senderSequence))
                {
                    newest[from] = senderSequence;
                }
            }
        }
    }

    private readonly record struct Source(ulong Sequence, string From, ulong SenderSequence);
}
