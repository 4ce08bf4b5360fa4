namespace Parley.Storage.Nats.Internal;

/// <summary>
/// A P2P directory entry in the directory bucket (the key is hex(user).hex(device); user and device are repeated so
/// that `nats kv get` shows whose it is). LastSeen is Unix milliseconds of the node that wrote it.
/// </summary>
internal sealed record DirectoryBody(string User, string Device, string Endpoint, byte[] Fingerprint, byte[] SecretHash, long LastSeen);
