namespace Parley.Storage.Nats.Internal;

/// <summary>
/// A node's presence message: devices online per user on <see cref="Node"/>. <see cref="Full"/>: the node's whole
/// list (a heartbeat; users missing from it are gone from that node). <see cref="Hello"/>: a node that just started
/// asks the others for their full lists at once. <see cref="Close"/>: close sessions of a user on the other nodes.
/// </summary>
internal sealed record PresenceBody(string Node, Dictionary<string, int> Users, bool Full, bool Hello = false, CloseBody? Close = null);
