namespace Parley.IntegrationTests.Faults;

/// <summary>
/// The faults one direction of a <see cref="FaultProxy"/> applies, Toxiproxy style. Immutable: a proxy swaps the
/// whole set at once, and every connection picks the new set up at its next chunk of data (between the pieces of a
/// chunk for bandwidth, slicer, black hole and reset). Several toxics may be combined in one set.
/// </summary>
public sealed record Toxics
{
    /// <summary>No fault: bytes are forwarded as they come.</summary>
    public static Toxics None { get; } = new();

    /// <summary>Every chunk is forwarded this long after it was read (order is kept).</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>A random amount in [-Jitter, +Jitter] added to <see cref="Latency"/> per chunk.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>At most this many bytes per second are forwarded (0: unlimited).</summary>
    public long BandwidthBytesPerSecond { get; init; }

    /// <summary>Chunks are split into writes of at most this many bytes (0: off).</summary>
    public int SliceBytes { get; init; }

    /// <summary>The pause between two slices of one chunk.</summary>
    public TimeSpan SliceDelay { get; init; }

    /// <summary>
    /// limit_data: forward at most this many bytes, then close both sides (null: off). The budget counts from the
    /// moment this set was applied (or from the connection's start, for later connections).
    /// </summary>
    public long? LimitBytes { get; init; }

    /// <summary>Drop every byte but keep the connection open (a closed side is still passed on).</summary>
    public bool BlackHole { get; init; }

    /// <summary>reset_peer: the next data in this direction resets both sides (RST, via linger 0).</summary>
    public bool Reset { get; init; }

    public bool IsNone => Equals(None);
}
