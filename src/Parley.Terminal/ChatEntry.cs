using Parley.Protocol;

namespace Parley.Terminal;

/// <summary>One line of a conversation: a message (with its log sequence once stored) or an info line.</summary>
public sealed class ChatEntry
{
    public ChatEntry(MessageId id, string from, string to, DateTimeOffset time, string text, MessageState state)
    {
        Id = id;
        From = from;
        To = to;
        Time = time;
        Text = text;
        State = state;
    }

    public MessageId Id { get; }

    public string From { get; }

    public string To { get; }

    public DateTimeOffset Time { get; internal set; }

    public string Text { get; }

    public MessageState State { get; internal set; }

    /// <summary>Place in the user's log; 0 while sending or for an info line.</summary>
    public ulong Sequence { get; internal set; }

    /// <summary>An info line (help, /who, errors), not a message.</summary>
    public bool IsInfo { get; init; }

    /// <summary>Arrived during a catch-up after being offline.</summary>
    public bool Offline { get; internal set; }

    /// <summary>Why the server refused it, when <see cref="State"/> is Failed.</summary>
    public string? Error { get; internal set; }

    /// <summary>Ordering key: the sequence; pending messages last; info lines after what was there when they were added.</summary>
    internal ulong Key { get; set; }
}
