namespace Parley.Server.Memory;

/// <summary>
/// When an idle server gives back the memory its last burst of work left behind (<see cref="IdleMemoryRelease"/>).
/// Defaults in docs/architecture.md ("Limits (all settings)"); `parley serve --idle-memory-release MIB` sets
/// <see cref="MinimumGarbageBytes"/> (0 turns it off).
/// </summary>
public sealed record IdleMemoryReleaseOptions
{
    /// <summary>How often the process's allocations are looked at.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>At most this many bytes allocated during one <see cref="Interval"/> and the process counts as idle.</summary>
    public long IdleAllocationBytes { get; init; } = 256 * 1024;

    /// <summary>
    /// Bytes allocated since the last collection before an idle process collects; also never less than the heap the
    /// last collection left, so that a large heap, which a full collection takes longer to compact, is only compacted
    /// for as much memory as it gives back. 0 turns the release off.
    /// </summary>
    public long MinimumGarbageBytes { get; init; } = 32L * 1024 * 1024;
}
