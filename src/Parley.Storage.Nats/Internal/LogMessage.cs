namespace Parley.Storage.Nats.Internal;

/// <summary>One raw message of the log stream as a batch read returns it: its subject (the owner), stream sequence and body.</summary>
internal readonly record struct LogMessage(string Subject, ulong Seq, byte[] Data);
