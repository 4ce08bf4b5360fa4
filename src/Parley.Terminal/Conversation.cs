namespace Parley.Terminal;

/// <summary>A conversation with one peer (or the status buffer): its lines in log order and what the user has seen.</summary>
public sealed class Conversation
{
    private readonly List<ChatEntry> _entries = [];

    public Conversation(string name, bool isStatus = false)
    {
        Name = name;
        IsStatus = isStatus;
    }

    public string Name { get; }

    /// <summary>Window 1: info lines when no conversation is open; never closed.</summary>
    public bool IsStatus { get; }

    public IReadOnlyList<ChatEntry> Entries => _entries;

    public int Unread { get; internal set; }

    /// <summary>An unread message mentions the user's name.</summary>
    public bool Highlight { get; internal set; }

    /// <summary>The last sequence the user had seen when they last left this conversation; a marker line follows it.</summary>
    public ulong ReadMarker { get; internal set; }

    /// <summary>How many lines the view is scrolled up from the newest (0: pinned to the bottom).</summary>
    public int ScrollOffset { get; internal set; }

    /// <summary>Nothing older is stored on the server (a history request returned less than asked).</summary>
    public bool HistoryExhausted { get; internal set; }

    /// <summary>A history request is on its way; PgUp does not ask twice.</summary>
    public bool HistoryLoading { get; internal set; }

    /// <summary>First sequence that arrived while the user was offline, 0 if none (the separator goes before it).</summary>
    public ulong OfflineFrom { get; internal set; }

    public int OfflineCount { get; internal set; }

    public ulong OldestSequence => _entries.FirstOrDefault(e => e.Sequence > 0)?.Sequence ?? 0;

    public ulong NewestSequence => _entries.LastOrDefault(e => e.Sequence > 0)?.Sequence ?? 0;

    internal ChatEntry? Find(Parley.Protocol.MessageId id) => _entries.Find(e => !e.IsInfo && e.Id == id);

    internal bool Contains(ulong sequence) => sequence > 0 && _entries.Exists(e => e.Sequence == sequence);

    /// <summary>Inserts by <see cref="ChatEntry.Key"/>, after entries with the same key (stable).</summary>
    internal void Insert(ChatEntry entry)
    {
        var index = _entries.Count;
        while (index > 0 && _entries[index - 1].Key > entry.Key)
        {
            index--;
        }

        _entries.Insert(index, entry);
    }

    internal void Reposition(ChatEntry entry)
    {
        _entries.Remove(entry);
        Insert(entry);
    }

    /// <summary>The key for a line added now: after everything stored so far, before pending messages.</summary>
    internal ulong CurrentKey => NewestSequence;
}
