using Parley.Protocol;

namespace Parley.Storage;

/// <summary>One entry of a user's log: a message to or from <see cref="Owner"/>, at <see cref="Sequence"/> in that log.</summary>
public sealed record LogEntry(string Owner, ulong Sequence, MessageId Id, string From, string To, long Time, string Text);
