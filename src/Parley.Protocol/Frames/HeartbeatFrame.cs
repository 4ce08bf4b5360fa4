namespace Parley.Protocol.Frames;

/// <summary>
/// HEARTBEAT (0x31), client to server, allowed before login: keeps the directory entry of (User, Device) alive.
/// Secret is the one DIRECTORY_REGISTERED gave; the server answers HEARTBEAT_OK, or ERROR AuthFailed (wrong
/// secret) or UnknownDevice (no such entry: expired or never registered; register again), then closes.
/// </summary>
public sealed record HeartbeatFrame(string User, string Device, byte[] Secret) : Frame
{
    public override FrameType Type => FrameType.Heartbeat;

    public override int PayloadLength() => PayloadSize.String(User) + PayloadSize.String(Device) + PayloadSize.Blob(Secret);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(User);
        writer.WriteString(Device);
        writer.WriteBlob(Secret);
    }

    public override string ToString() => $"Heartbeat {{ User = {User}, Device = {Device} }}";

    internal static HeartbeatFrame Read(ref PayloadReader reader) =>
        new(reader.ReadString(256), reader.ReadString(256), reader.ReadBlob(DirectoryRegisteredFrame.SecretLength));

    public bool Equals(HeartbeatFrame? other) =>
        other is not null && User == other.User && Device == other.Device && Secret.AsSpan().SequenceEqual(other.Secret);

    public override int GetHashCode() => HashCode.Combine(User, Device);
}
