namespace Parley.Protocol;

/// <summary>
/// Sizes the codec enforces. The defaults are the protocol's v1 limits (docs/protocol.md, "Limits"); a server may
/// lower them, never raise them above what a peer accepts.
/// </summary>
public sealed record ProtocolLimits
{
    /// <summary>Largest frame, counted from the type byte to the end (the 4-byte length itself excluded). 1 MiB, as NATS max_payload.</summary>
    public int MaxFrameLength { get; init; } = 1024 * 1024;

    /// <summary>Largest frame accepted before login (HELLO, REGISTER, LOGIN, RESUME): 4 KiB, as the NATS control line.</summary>
    public int MaxPreAuthFrameLength { get; init; } = 4 * 1024;

    /// <summary>Largest message text in UTF-8 bytes: 64 KiB.</summary>
    public int MaxTextBytes { get; init; } = 64 * 1024;

    /// <summary>Default limits of protocol v1.</summary>
    public static ProtocolLimits Default { get; } = new();

    /// <summary>Largest short string (names, device ids, passwords, error text) in UTF-8 bytes; fixed by the u16 length field's use.</summary>
    public const int MaxShortStringBytes = 1024;
}
