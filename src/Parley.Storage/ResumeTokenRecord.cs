namespace Parley.Storage;

/// <summary>A stored resume token: only its SHA-256 is kept, with the (user, device) it logs in and its expiry.</summary>
public sealed record ResumeTokenRecord(byte[] Hash, string User, string Device, DateTimeOffset Expires);
