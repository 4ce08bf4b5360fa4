using Parley.Protocol;

namespace Parley.Storage;

/// <summary>
/// One entry of a user's log: a message to or from <see cref="Owner"/>, at <see cref="Sequence"/> in that log. An entry
/// that offers a file has <see cref="File"/>; its <see cref="Text"/> then describes the file for text-only readers.
/// </summary>
public sealed record LogEntry(string Owner, ulong Sequence, MessageId Id, string From, string To, long Time, string Text, FileOffer? File = null);
