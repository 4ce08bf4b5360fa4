namespace Parley.Storage.Nats.Internal;

/// <summary>One unfetched file in a sender's quota ledger: its size, and its creation time so expired ones drop out.</summary>
internal sealed record QuotaEntry(long Size, long Created);
