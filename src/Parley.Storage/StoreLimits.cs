namespace Parley.Storage;

/// <summary>Quotas a store enforces (docs/architecture.md, "Limits").</summary>
public sealed record StoreLimits
{
    /// <summary>
    /// Most messages a user's log may hold beyond what all of their devices acknowledged (security.md 13). A send
    /// past it is refused with RecipientQueueFull; nothing is evicted to make room.
    /// </summary>
    public int MaxUnacknowledgedPerUser { get; init; } = 10_000;

    /// <summary>Most operations committed in one transaction (group commit).</summary>
    public int MaxBatch { get; init; } = 512;
}
