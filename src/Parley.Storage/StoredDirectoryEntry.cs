namespace Parley.Storage;

/// <summary>
/// A directory entry as read from its store, with the revision a replacement must name: a heartbeat that raced a new
/// registration (new secret) or another heartbeat then fails and reads again instead of overwriting it.
/// </summary>
public sealed record StoredDirectoryEntry(DirectoryEntry Entry, ulong Revision);
