using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Terminal;

/// <summary>
/// Everything the chat screen shows, without a terminal: the conversations (window 1 is the status buffer), the
/// current one, unread counts and highlights, read markers, the "arrived while offline" boundary, presence and the
/// states of sent messages. Not thread-safe: the front end applies all events on one loop.
/// </summary>
public sealed class ChatState
{
    private readonly List<Conversation> _conversations;
    private readonly HashSet<string> _online = new(StringComparer.Ordinal);

    /// <summary>Per peer, the newest of our log sequences that a RECEIPT said reached one of the peer's devices.</summary>
    private readonly Dictionary<string, ulong> _deliveredUpTo = new(StringComparer.Ordinal);

    public ChatState(string me, ulong readUpTo = 0)
    {
        Me = me;
        ReadUpTo = readUpTo;
        _conversations = [new Conversation("(status)", isStatus: true)];
        Current = _conversations[0];
    }

    public string Me { get; }

    /// <summary>Called with the peer of each conversation when it is opened, so the client can follow their presence.</summary>
    public event Action<string>? ConversationOpened;

    /// <summary>The device's cursor at start: everything up to it was seen before, so it is where read markers start.</summary>
    public ulong ReadUpTo { get; }

    public IReadOnlyList<Conversation> Conversations => _conversations;

    public Conversation Current { get; private set; }

    public int CurrentIndex => _conversations.IndexOf(Current);

    /// <summary>Messages now are a catch-up (after start or a reconnect) until the server says SYNCED.</summary>
    public bool CatchingUp { get; set; } = true;

    /// <summary>Connection status for the status bar ("connected", "reconnecting ...").</summary>
    public string Status { get; set; } = "connecting";

    public IReadOnlyCollection<string> Online => _online;

    public bool IsOnline(string user) => _online.Contains(user);

    public Conversation? Find(string name) => _conversations.Find(c => !c.IsStatus && c.Name == name);

    /// <summary>The conversation with <paramref name="peer"/>, opened (at the end of the list) if it is not there.</summary>
    public Conversation Open(string peer)
    {
        var conversation = Find(peer);
        if (conversation is null)
        {
            conversation = new Conversation(peer) { ReadMarker = ReadUpTo };
            _conversations.Add(conversation);
            ConversationOpened?.Invoke(peer);
        }

        return conversation;
    }

    /// <summary>Makes <paramref name="conversation"/> current: the one left keeps its read marker at its end.</summary>
    public void SwitchTo(Conversation conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        if (conversation == Current)
        {
            return;
        }

        Current.ReadMarker = Math.Max(Current.ReadMarker, Current.NewestSequence);
        Current.ScrollOffset = 0;
        Current = conversation;
        conversation.Unread = 0;
        conversation.Highlight = false;
        conversation.ScrollOffset = 0;
    }

    public Conversation Query(string peer)
    {
        var conversation = Open(peer);
        SwitchTo(conversation);
        return conversation;
    }

    /// <summary>Window <paramref name="number"/> (1-based, as Alt+1..9); false if there is none.</summary>
    public bool SwitchToWindow(int number)
    {
        if (number < 1 || number > _conversations.Count)
        {
            return false;
        }

        SwitchTo(_conversations[number - 1]);
        return true;
    }

    public void Next() => SwitchTo(_conversations[(CurrentIndex + 1) % _conversations.Count]);

    public void Previous() => SwitchTo(_conversations[(CurrentIndex - 1 + _conversations.Count) % _conversations.Count]);

    /// <summary>Alt+a: the next window with a highlight, else the next with unread messages; false if none.</summary>
    public bool NextWithActivity()
    {
        var start = CurrentIndex;
        Conversation? unread = null;
        for (var step = 1; step < _conversations.Count; step++)
        {
            var candidate = _conversations[(start + step) % _conversations.Count];
            if (candidate.Highlight)
            {
                SwitchTo(candidate);
                return true;
            }

            unread ??= candidate.Unread > 0 ? candidate : null;
        }

        if (unread is null)
        {
            return false;
        }

        SwitchTo(unread);
        return true;
    }

    /// <summary>Closes a conversation (not the status window); it reopens when a message arrives. False if none.</summary>
    public bool Close(string? name = null)
    {
        var conversation = name is null ? Current : Find(name);
        if (conversation is null || conversation.IsStatus)
        {
            return false;
        }

        var index = _conversations.IndexOf(conversation);
        if (conversation == Current)
        {
            SwitchTo(_conversations[index - 1]);
        }

        _conversations.RemoveAt(index);
        return true;
    }

    /// <summary>A log entry from the server (live, catch-up, or this user's own copy). Returns its conversation.</summary>
    public Conversation Receive(DeliverFrame message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var peer = message.From == Me ? message.To : message.From;
        var conversation = Open(peer);
        if (conversation.Contains(message.Sequence))
        {
            return conversation;
        }

        var time = DateTimeOffset.FromUnixTimeMilliseconds(message.Time);
        var pending = conversation.Find(message.Id);
        if (pending is not null && message.From == Me)
        {
            // Our own message coming back in our log: it is stored, and now has its place in the log.
            Store(conversation, pending, message.Sequence, time);
            return conversation;
        }

        var entry = new ChatEntry(message.Id, message.From, message.To, time, message.Text,
            message.From == Me ? SentState(message.To, message.Sequence) : MessageState.Received)
        {
            Sequence = message.Sequence,
            Key = message.Sequence,
        };
        if (CatchingUp)
        {
            entry.Offline = true;
            conversation.OfflineCount++;
            if (conversation.OfflineFrom == 0)
            {
                conversation.OfflineFrom = message.Sequence;
            }
        }

        conversation.Insert(entry);
        if (message.From != Me && conversation != Current)
        {
            conversation.Unread++;
            conversation.Highlight |= message.Text.Contains(Me, StringComparison.OrdinalIgnoreCase);
        }
        else if (message.From == Me && conversation != Current)
        {
            // Sent from another device of ours: we have read up to here in that conversation.
            conversation.ReadMarker = message.Sequence;
            conversation.Unread = 0;
            conversation.Highlight = false;
        }

        return conversation;
    }

    /// <summary>Older entries from HISTORY (oldest first): already read, so no unread counts or offline marks.</summary>
    public void AddHistory(Conversation conversation, IReadOnlyList<DeliverFrame> entries, int asked)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(entries);
        conversation.HistoryLoading = false;
        conversation.HistoryExhausted |= entries.Count < asked;
        foreach (var message in entries)
        {
            var peer = message.From == Me ? message.To : message.From;
            var target = conversation.IsStatus || peer != conversation.Name ? Open(peer) : conversation;
            if (target.Contains(message.Sequence))
            {
                continue;
            }

            target.Insert(new ChatEntry(message.Id, message.From, message.To, DateTimeOffset.FromUnixTimeMilliseconds(message.Time), message.Text,
                message.From == Me ? SentState(message.To, message.Sequence) : MessageState.Received)
            {
                Sequence = message.Sequence,
                Key = message.Sequence,
            });
        }
    }

    /// <summary>A message typed now to <paramref name="peer"/>: shown at once as sending.</summary>
    public ChatEntry AddPending(string peer, string text, DateTimeOffset now)
    {
        var conversation = Open(peer);
        var entry = new ChatEntry(MessageId.NewTimeOrdered(), Me, peer, now, text, MessageState.Sending) { Key = ulong.MaxValue };
        conversation.Insert(entry);
        return entry;
    }

    /// <summary>SEND_OK for a pending message.</summary>
    public void MarkStored(MessageId id, ulong sequence, DateTimeOffset time)
    {
        foreach (var conversation in _conversations)
        {
            var entry = conversation.Find(id);
            if (entry is not null && entry.State is MessageState.Sending or MessageState.Failed)
            {
                Store(conversation, entry, sequence, time);
            }
        }
    }

    /// <summary>
    /// RECEIPT: every message we sent to <paramref name="peer"/> up to our log sequence <paramref name="upTo"/> reached
    /// one of the peer's devices. Remembered, so a message whose SEND_OK or copy comes later is marked too.
    /// </summary>
    public void MarkDelivered(string peer, ulong upTo)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (_deliveredUpTo.TryGetValue(peer, out var known) && known >= upTo)
        {
            return;
        }

        _deliveredUpTo[peer] = upTo;
        if (Find(peer) is not { } conversation)
        {
            return;
        }

        foreach (var entry in conversation.Entries)
        {
            if (entry.From == Me && entry.State == MessageState.Stored && entry.Sequence > 0 && entry.Sequence <= upTo)
            {
                entry.State = MessageState.Delivered;
            }
        }
    }

    public void MarkFailed(MessageId id, string error)
    {
        foreach (var conversation in _conversations)
        {
            if (conversation.Find(id) is { } entry)
            {
                entry.State = MessageState.Failed;
                entry.Error = error;
            }
        }
    }

    public void SetPresence(string user, bool online)
    {
        if (online)
        {
            _online.Add(user);
        }
        else
        {
            _online.Remove(user);
        }
    }

    public void SetOnline(IEnumerable<string> users)
    {
        _online.Clear();
        _online.UnionWith(users);
    }

    /// <summary>An info line (help, errors, /who) in the current window, or in <paramref name="conversation"/>.</summary>
    public void Info(string text, DateTimeOffset now, Conversation? conversation = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var target = conversation ?? Current;
        foreach (var line in text.Split('\n'))
        {
            target.Insert(new ChatEntry(default, string.Empty, string.Empty, now, line, MessageState.Received) { IsInfo = true, Key = target.CurrentKey });
        }
    }

    /// <summary>Names for completion: conversations and online users.</summary>
    public IEnumerable<string> KnownNames() =>
        _conversations.Where(c => !c.IsStatus).Select(c => c.Name).Concat(_online).Where(n => n != Me).Distinct(StringComparer.Ordinal);

    /// <summary>Window numbers with unread messages, "!" after highlights, for the status bar's Act: list.</summary>
    public string Activity() => string.Join(',', _conversations
        .Select((c, i) => (c, i))
        .Where(x => x.c.Unread > 0 || x.c.Highlight)
        .Select(x => (x.i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + (x.c.Highlight ? "!" : string.Empty)));

    /// <summary>Stored, or delivered when a receipt already covers this sequence.</summary>
    private MessageState SentState(string to, ulong sequence) =>
        _deliveredUpTo.TryGetValue(to, out var delivered) && sequence <= delivered ? MessageState.Delivered : MessageState.Stored;

    private void Store(Conversation conversation, ChatEntry entry, ulong sequence, DateTimeOffset time)
    {
        entry.State = SentState(entry.To, sequence);
        entry.Sequence = sequence;
        entry.Time = time;
        entry.Key = sequence;
        conversation.Reposition(entry);
        if (conversation != Current)
        {
            // What we typed ourselves (or on another device) is read.
            conversation.ReadMarker = Math.Max(conversation.ReadMarker, sequence);
        }
    }
}
