namespace Parley.Protocol.Frames;

/// <summary>
/// FILE_INFO (0xA2), server to client: the first answer to DOWNLOAD, before any FILE_CHUNK: who sent the file, its
/// name, size and SHA-256, so that a client that only knows the id (`parley get ID`) can show progress and verify.
/// </summary>
public sealed record FileInfoFrame(MessageId FileId, string From, string To, string Name, ulong Size, byte[] Sha256) : Frame
{
    public override FrameType Type => FrameType.FileInfo;

    public override int PayloadLength() =>
        MessageId.Size + PayloadSize.String(From) + PayloadSize.String(To) + PayloadSize.String(Name) + 8 + FileTransferLimits.HashBytes;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(FileId);
        writer.WriteString(From);
        writer.WriteString(To);
        writer.WriteString(Name);
        writer.WriteU64(Size);
        writer.WriteFixed(Sha256);
    }

    internal static FileInfoFrame Read(ref PayloadReader reader) =>
        new(reader.ReadMessageId(), reader.ReadString(256), reader.ReadString(256), reader.ReadString(FileTransferLimits.MaxNameBytes),
            reader.ReadU64(), reader.ReadFixed(FileTransferLimits.HashBytes));

    /// <summary>Value equality on the digest's bytes, not the array reference.</summary>
    public bool Equals(FileInfoFrame? other) =>
        other is not null && FileId == other.FileId && From == other.From && To == other.To && Name == other.Name && Size == other.Size &&
        Sha256.AsSpan().SequenceEqual(other.Sha256);

    public override int GetHashCode() => HashCode.Combine(FileId, From, To, Size);
}
