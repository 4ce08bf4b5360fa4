namespace Parley.Protocol.Frames;

/// <summary>
/// DIRECTORY_REGISTERED (0xB0), server to client: the device is in the directory. Secret authenticates its
/// HEARTBEATs (a bearer secret valid only for this entry, so heartbeats need no login and rotate no token);
/// Interval is how often to send them and Timeout when the entry is forgotten without one, both in milliseconds.
/// </summary>
public sealed record DirectoryRegisteredFrame(byte[] Secret, uint IntervalMs, uint TimeoutMs) : Frame
{
    public const int SecretLength = 32;

    public override FrameType Type => FrameType.DirectoryRegistered;

    public override int PayloadLength() => PayloadSize.Blob(Secret) + 4 + 4;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteBlob(Secret);
        writer.WriteU32(IntervalMs);
        writer.WriteU32(TimeoutMs);
    }

    public override string ToString() => $"DirectoryRegistered {{ IntervalMs = {IntervalMs}, TimeoutMs = {TimeoutMs} }}";

    internal static DirectoryRegisteredFrame Read(ref PayloadReader reader) => new(reader.ReadBlob(SecretLength), reader.ReadU32(), reader.ReadU32());

    public bool Equals(DirectoryRegisteredFrame? other) =>
        other is not null && IntervalMs == other.IntervalMs && TimeoutMs == other.TimeoutMs && Secret.AsSpan().SequenceEqual(other.Secret);

    public override int GetHashCode() => HashCode.Combine(IntervalMs, TimeoutMs);
}
