namespace Parley.Storage.Nats.Internal;

/// <summary>A live KV value and the revision to compare-and-set against.</summary>
internal sealed record KvValue<T>(T Value, ulong Revision);
