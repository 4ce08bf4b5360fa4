namespace Parley.Storage.Sqlite.Internal;

/// <summary>A submission remembered for dedupe while it is staged: its content digest, place in the sender's log and time.</summary>
internal sealed record StagedSubmit(byte[] Digest, ulong Sequence, long Time);
