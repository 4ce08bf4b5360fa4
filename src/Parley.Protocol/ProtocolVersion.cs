namespace Parley.Protocol;

/// <summary>Versions of the wire protocol this library speaks.</summary>
public static class ProtocolVersion
{
    /// <summary>The first version (docs/protocol.md).</summary>
    public const ushort V1 = 1;

    /// <summary>
    /// V1 and UPLOAD_END: an UPLOAD_START whose SHA-256 is all zeros leaves the hash to an UPLOAD_END after the last
    /// chunk, so a client sends its first byte without reading the whole file first (docs/protocol.md §7).
    /// </summary>
    public const ushort V2 = 2;

    public const ushort Min = V1;
    public const ushort Max = V2;

    /// <summary>The ALPN-like magic a client's HELLO starts with, so a stray connection is told apart at once.</summary>
    public const uint Magic = 0x50524C59; // "PRLY"
}
