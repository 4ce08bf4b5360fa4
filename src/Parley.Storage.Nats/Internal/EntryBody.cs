namespace Parley.Storage.Nats.Internal;

/// <summary>
/// The body of one log message in the stream (JSON). The owner is the subject and the sequence is the stream's, so
/// neither is repeated. <see cref="SenderSeq"/> is where the sender's copy sits in the sender's log: delivery
/// receipts are computed from it without a second lookup.
/// </summary>
internal sealed record EntryBody(string Id, string From, string To, long Time, string Text, ulong SenderSeq,
    string? FileId = null, string? FileName = null, ulong FileSize = 0, string? FileSha = null);
