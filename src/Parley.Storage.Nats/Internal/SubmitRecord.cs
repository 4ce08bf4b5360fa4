namespace Parley.Storage.Nats.Internal;

/// <summary>
/// The durable dedupe record of one (sender, id), beyond the stream's duplicate window: the digest of the content, the
/// sequences of its copies and the time. Same role as the SQLite store's `submits` table.
/// </summary>
internal sealed record SubmitRecord(string Digest, ulong SenderSeq, ulong RecipientSeq, ulong ReplySeq, long Time);
