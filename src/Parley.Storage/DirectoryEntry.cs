namespace Parley.Storage;

/// <summary>
/// One device in the P2P directory (docs/p2p.md): where it accepts direct links, the fingerprint of its device key,
/// the SHA-256 of the secret its heartbeats carry (never the secret itself), and when it was last heard from.
/// Immutable: a heartbeat replaces the entry, so a store can compare-and-set whole entries.
/// </summary>
public sealed record DirectoryEntry(string User, string Device, string Endpoint, byte[] Fingerprint, byte[] SecretHash, DateTimeOffset LastSeen);
