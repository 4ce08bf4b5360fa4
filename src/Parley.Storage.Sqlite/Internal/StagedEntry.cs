namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// A staged log entry and, for a message someone else sent to the owner, its place in the sender's log (0 otherwise),
/// which is what a delivery receipt names.
/// </summary>
internal readonly record struct StagedEntry(LogEntry Entry, ulong SenderSequence);
