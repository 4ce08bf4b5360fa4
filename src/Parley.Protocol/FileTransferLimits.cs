namespace Parley.Protocol;

/// <summary>Wire limits of the file-transfer frames (docs/protocol.md, "File transfer").</summary>
public static class FileTransferLimits
{
    /// <summary>Most data bytes in one UPLOAD_CHUNK or FILE_CHUNK: 256 KiB, well inside the 1 MiB frame limit.</summary>
    public const int MaxChunkBytes = 256 * 1024;

    /// <summary>
    /// Longest file name on the wire, in UTF-8 bytes. Larger than any file system allows on purpose: the name is
    /// metadata, and the receiver shortens it when saving (security.md 28), so a sender's odd name never fails a send.
    /// </summary>
    public const int MaxNameBytes = 16 * 1024;

    /// <summary>Size of the SHA-256 digest fields.</summary>
    public const int HashBytes = 32;
}
