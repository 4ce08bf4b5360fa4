namespace Parley.Storage;

/// <summary>The outcome of an append: for Stored and Duplicate, the sequence of the sender's copy and the server time (Unix ms).</summary>
public readonly record struct AppendResult(AppendStatus Status, ulong SenderSequence, long Time);
