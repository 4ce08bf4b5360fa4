namespace Parley.Server.SeedCompat;

/// <summary>What <see cref="SeedFrameReader.TryRead"/> found in the bytes it holds.</summary>
internal enum SeedReadStatus
{
    /// <summary>No complete frame yet: read more bytes.</summary>
    NeedMore,

    /// <summary>A frame (a message or the goodbye).</summary>
    Frame,

    /// <summary>Bytes that are not a frame; they were skipped up to the next <c>||</c>, later frames are unaffected.</summary>
    Malformed,

    /// <summary>A frame longer than the limit; it is skipped up to its <c>||</c> without being buffered.</summary>
    TooLarge,
}
