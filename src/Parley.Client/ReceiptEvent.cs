namespace Parley.Client;

/// <summary>
/// A device of <see cref="Peer"/> has received every message this user sent to <see cref="Peer"/> up to
/// <see cref="UpTo"/> (a sequence in this user's own log, as SEND_OK returned it).
/// </summary>
public sealed record ReceiptEvent(string Peer, ulong UpTo) : ServerEvent;
