namespace Parley.Storage.Nats.Internal;

/// <summary>
/// A committed entry as announced to every node on the core subject: the node that stored it (which already told its
/// own router), the owner, the stream sequence and the entry itself, so other nodes need not read it back.
/// </summary>
internal sealed record LiveBody(string Node, string Owner, ulong Seq, EntryBody Entry);
