namespace Parley.Security;

/// <summary>
/// Limits for <see cref="LoginThrottle"/> (security.md 16). The defaults let a person mistype a few times, then slow
/// an online guesser down exponentially up to one attempt per <see cref="MaxBackoff"/> per address and per account,
/// while keeping at most <see cref="MaxEntries"/> counters in memory and at most <see cref="MaxConcurrentHashes"/>
/// Argon2id computations running, so a flood of logins cannot exhaust CPU or memory.
/// </summary>
public sealed record LoginThrottleOptions
{
    /// <summary>Failures per key allowed without delay.</summary>
    public int FreeFailures { get; init; } = 5;

    /// <summary>A key's failures are forgotten this long after its last failure or the end of its backoff, whichever is later.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The backoff after the <see cref="FreeFailures"/>-th failure; it doubles with each further failure.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest backoff.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How many password hashes may run at once (see <see cref="LoginThrottle.EnterHashingAsync"/>).</summary>
    public int MaxConcurrentHashes { get; init; } = Environment.ProcessorCount;

    /// <summary>Most keys (addresses plus accounts) tracked; beyond it the least recently failed are dropped.</summary>
    public int MaxEntries { get; init; } = 100_000;

    /// <summary>Expired entries are swept every this many calls.</summary>
    public int PurgeInterval { get; init; } = 1024;
}
