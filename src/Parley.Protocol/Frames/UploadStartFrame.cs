namespace Parley.Protocol.Frames;

/// <summary>
/// UPLOAD_START (0x20), client to server: "I am sending this file to this user". The client picks the file id (random,
/// kept across retries, like a message id). The server checks size, quota and recipient before any byte is written and
/// answers UPLOAD_READY with the offset already stored (resume), UPLOAD_DONE when it already has it all, or ERROR.
/// </summary>
public sealed record UploadStartFrame(MessageId FileId, string To, string Name, ulong Size, byte[] Sha256) : Frame
{
    public override FrameType Type => FrameType.UploadStart;

    /// <summary>
    /// True when the SHA-256 is all zeros: from protocol version 2 on, "the hash follows in UPLOAD_END" (in version 1
    /// it is an ordinary, if unlikely, hash).
    /// </summary>
    public bool HashFollows => !Sha256.AsSpan().ContainsAnyExcept((byte)0);

    public override int PayloadLength() =>
        MessageId.Size + PayloadSize.String(To) + PayloadSize.String(Name) + 8 + FileTransferLimits.HashBytes;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(FileId);
        writer.WriteString(To);
        writer.WriteString(Name);
        writer.WriteU64(Size);
        writer.WriteFixed(Sha256);
    }

    internal static UploadStartFrame Read(ref PayloadReader reader) =>
        new(reader.ReadMessageId(), reader.ReadString(256), reader.ReadString(FileTransferLimits.MaxNameBytes), reader.ReadU64(),
            reader.ReadFixed(FileTransferLimits.HashBytes));

    /// <summary>Value equality on the digest's bytes, not the array reference (round-trip tests, dedupe).</summary>
    public bool Equals(UploadStartFrame? other) =>
        other is not null && FileId == other.FileId && To == other.To && Name == other.Name && Size == other.Size &&
        Sha256.AsSpan().SequenceEqual(other.Sha256);

    public override int GetHashCode() => HashCode.Combine(FileId, To, Size);
}
