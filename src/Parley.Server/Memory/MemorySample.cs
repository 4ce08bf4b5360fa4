namespace Parley.Server.Memory;

/// <summary>
/// What <see cref="IdleMemoryRelease"/> looks at, read from the runtime at one moment: bytes allocated since the
/// process started, collections of the first generation so far, and the heap's size after the last collection (0 when
/// none has run).
/// </summary>
internal readonly record struct MemorySample(long AllocatedBytes, int Collections, long HeapAfterLastCollection)
{
    public static MemorySample Now()
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        return new MemorySample(GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0), info.Index == 0 ? 0 : info.HeapSizeBytes);
    }
}
