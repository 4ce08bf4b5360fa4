namespace Parley.Storage.Nats.Internal;

/// <summary>A stored resume token (the key is its hash).</summary>
internal sealed record TokenBody(string User, string Device, long Expires);
