using System.Text;

namespace Parley.Security;

/// <summary>
/// Brute-force protection for logins (security.md 16), checked before any password hash is computed. Failures are
/// counted separately per client address and per account; after <see cref="LoginThrottleOptions.FreeFailures"/>
/// failures a key is refused until a backoff has passed that starts at
/// <see cref="LoginThrottleOptions.InitialBackoff"/> and doubles with each further failure, up to
/// <see cref="LoginThrottleOptions.MaxBackoff"/>. A key is forgotten <see cref="LoginThrottleOptions.Window"/> after
/// its last failure or the end of its backoff, whichever is later, so a guesser at the maximum backoff gets one
/// attempt per <see cref="LoginThrottleOptions.MaxBackoff"/> and never earns fresh free failures. Memory is bounded (expired keys are swept, and beyond
/// <see cref="LoginThrottleOptions.MaxEntries"/> the least recently failed keys are dropped) and
/// <see cref="EnterHashingAsync"/> caps concurrent hash computations.
/// <para>
/// Intended use: <c>IsThrottled</c> (refuse with ERR_THROTTLED if true) → <c>EnterHashingAsync</c> →
/// <c>IsThrottled</c> again (attempts that queued for a slot) → verify → <c>RecordFailure</c> or <c>RecordSuccess</c>.
/// Unknown accounts must be recorded as failures too, so that the throttle does not reveal which accounts exist.
/// </para>
/// Thread-safe; time comes from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class LoginThrottle : IDisposable
{
    private const string AddressPrefix = "ip:";
    private const string AccountPrefix = "user:";
    private const int MaxDoublings = 40;

    private readonly LoginThrottleOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _hashSlots;
    private long _calls;

    public LoginThrottle(LoginThrottleOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new LoginThrottleOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(_options.FreeFailures, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.Window, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.InitialBackoff, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBackoff, _options.InitialBackoff, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConcurrentHashes, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxEntries, 2, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.PurgeInterval, 1, nameof(options));
        _time = timeProvider ?? TimeProvider.System;
        _hashSlots = new SemaphoreSlim(_options.MaxConcurrentHashes, _options.MaxConcurrentHashes);
    }

    public LoginThrottleOptions Options => _options;

    /// <summary>How many keys (addresses plus accounts) are tracked now.</summary>
    public int TrackedKeys
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>How many hash slots are free now.</summary>
    public int AvailableHashSlots => _hashSlots.CurrentCount;

    /// <summary>
    /// True when the address or the account is in backoff; <paramref name="retryAfter"/> is then the longer of the two
    /// remaining waits (zero otherwise). Cheap: a dictionary lookup under a lock, no hashing. An empty address or
    /// account is not checked.
    /// </summary>
    public bool IsThrottled(string address, string account, out TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(account);
        var now = _time.GetUtcNow();
        retryAfter = TimeSpan.Zero;
        lock (_lock)
        {
            MaybePurge(now);
            foreach (var key in Keys(address, account))
            {
                if (key is null || !_entries.TryGetValue(key, out var entry))
                {
                    continue;
                }

                if (IsExpired(entry, now))
                {
                    _entries.Remove(key);
                    continue;
                }

                if (now < entry.BlockedUntil && entry.BlockedUntil - now > retryAfter)
                {
                    retryAfter = entry.BlockedUntil - now;
                }
            }
        }

        return retryAfter > TimeSpan.Zero;
    }

    /// <summary>Counts a failed attempt against the address and the account (also for an unknown account).</summary>
    public void RecordFailure(string address, string account)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(account);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            MaybePurge(now);
            foreach (var key in Keys(address, account))
            {
                if (key is null)
                {
                    continue;
                }

                if (!_entries.TryGetValue(key, out var entry) || IsExpired(entry, now))
                {
                    if (entry is null && _entries.Count >= _options.MaxEntries)
                    {
                        MakeRoom(now);
                    }

                    entry = new Entry();
                    _entries[key] = entry;
                }

                entry.Failures++;
                entry.LastFailure = now;
                if (entry.Failures >= _options.FreeFailures)
                {
                    entry.BlockedUntil = now + Backoff(entry.Failures - _options.FreeFailures);
                }
            }
        }
    }

    /// <summary>Forgets the failures of the account and of the address after a successful login.</summary>
    public void RecordSuccess(string address, string account)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(account);
        lock (_lock)
        {
            foreach (var key in Keys(address, account))
            {
                if (key is not null)
                {
                    _entries.Remove(key);
                }
            }
        }
    }

    /// <summary>
    /// Waits for one of <see cref="LoginThrottleOptions.MaxConcurrentHashes"/> hash slots; dispose the result to free
    /// it. Keeps a login flood from occupying every core with Argon2id (security.md V5).
    /// </summary>
    public async Task<IDisposable> EnterHashingAsync(CancellationToken cancellationToken = default)
    {
        await _hashSlots.WaitAsync(cancellationToken);
        return new HashSlot(_hashSlots);
    }

    public void Dispose() => _hashSlots.Dispose();

    private TimeSpan Backoff(int extraFailures)
    {
        var doublings = Math.Min(extraFailures, MaxDoublings);
        var ticks = _options.InitialBackoff.Ticks * Math.Pow(2, doublings);
        return ticks >= _options.MaxBackoff.Ticks ? _options.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }

    // Forgotten a Window after the last failure or the end of the backoff, whichever is later: a key at the
    // maximum backoff that fails again on each release stays at the maximum instead of earning new free failures.
    private bool IsExpired(Entry entry, DateTimeOffset now) =>
        now - (entry.BlockedUntil > entry.LastFailure ? entry.BlockedUntil : entry.LastFailure) >= _options.Window;

    private void MaybePurge(DateTimeOffset now)
    {
        if (++_calls % _options.PurgeInterval == 0)
        {
            Purge(now);
        }
    }

    private void Purge(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (IsExpired(entry, now))
            {
                _entries.Remove(key); // allowed while enumerating a Dictionary since .NET Core 3.0
            }
        }
    }

    private void MakeRoom(DateTimeOffset now)
    {
        Purge(now);
        if (_entries.Count < _options.MaxEntries)
        {
            return;
        }

        // Still full of live keys: drop the least recently failed tenth in one go, so that this O(n log n) step is
        // paid once per MaxEntries/10 new keys rather than on every insert.
        var dropCount = Math.Max(1, _entries.Count / 10);
        foreach (var key in _entries.OrderBy(pair => pair.Value.LastFailure).Take(dropCount).Select(pair => pair.Key).ToList())
        {
            _entries.Remove(key);
        }
    }

    private static string?[] Keys(string address, string account) =>
    [
        address.Length == 0 ? null : AddressPrefix + address,
        account.Length == 0 ? null : AccountPrefix + NormalizeAccount(account),
    ];

    private static string NormalizeAccount(string account)
    {
        try
        {
            return account.Normalize(NormalizationForm.FormC).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return account; // not valid Unicode: it cannot be a real account, count it as given
        }
    }

    private sealed class Entry
    {
        public int Failures { get; set; }

        public DateTimeOffset LastFailure { get; set; }

        public DateTimeOffset BlockedUntil { get; set; }
    }

    private sealed class HashSlot(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}
