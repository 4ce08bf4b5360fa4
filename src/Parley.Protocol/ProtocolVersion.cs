namespace Parley.Protocol;

/// <summary>Versions of the wire protocol this library speaks.</summary>
public static class ProtocolVersion
{
    /// <summary>The version described in docs/protocol.md.</summary>
    public const ushort V1 = 1;

    public const ushort Min = V1;
    public const ushort Max = V1;

    /// <summary>The ALPN-like magic a client's HELLO starts with, so a stray connection is told apart at once.</summary>
    public const uint Magic = 0x50524C59; // "PRLY"
}
