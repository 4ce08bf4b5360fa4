using Parley.Protocol;

namespace Parley.Client.P2P;

/// <summary>A message shown to the user of a P2P device, from either path. Sequence is the server log's, 0 for a direct one.</summary>
public sealed record PeerMessage(MessageId Id, string From, string To, long Time, string Text, DeliveryPath Path, ulong Sequence);
