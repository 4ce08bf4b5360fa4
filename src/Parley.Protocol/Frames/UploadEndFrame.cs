namespace Parley.Protocol.Frames;

/// <summary>
/// UPLOAD_END (0x23, client to server, protocol version 2): the SHA-256 of the whole file, after the last UPLOAD_CHUNK
/// of an upload whose UPLOAD_START left it out (all zeros). The server compares it with the bytes it received and
/// answers UPLOAD_DONE or HashMismatch, as it would have at the last byte.
/// </summary>
public sealed record UploadEndFrame(MessageId FileId, byte[] Sha256) : Frame
{
    public override FrameType Type => FrameType.UploadEnd;

    public override int PayloadLength() => MessageId.Size + FileTransferLimits.HashBytes;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteMessageId(FileId);
        writer.WriteFixed(Sha256);
    }

    internal static UploadEndFrame Read(ref PayloadReader reader) => new(reader.ReadMessageId(), reader.ReadFixed(FileTransferLimits.HashBytes));

    /// <summary>Value equality on the digest's bytes, not the array reference.</summary>
    public bool Equals(UploadEndFrame? other) => other is not null && FileId == other.FileId && Sha256.AsSpan().SequenceEqual(other.Sha256);

    public override int GetHashCode() => FileId.GetHashCode();
}
