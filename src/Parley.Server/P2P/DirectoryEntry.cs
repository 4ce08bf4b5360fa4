namespace Parley.Server.P2P;

/// <summary>
/// One device in the P2P directory: where it accepts direct links, the fingerprint of its device key, the hash of
/// the secret its heartbeats carry, and when it was last heard from. Immutable: a heartbeat replaces the entry.
/// </summary>
internal sealed record DirectoryEntry(string User, string Device, string Endpoint, byte[] Fingerprint, byte[] SecretHash, DateTimeOffset LastSeen);
