namespace Parley.Protocol.Frames;

/// <summary>
/// DIRECTORY_REGISTER (0x30), client to server, logged in only: puts this device in the P2P directory with the
/// endpoint it accepts direct links on ("host:port"; empty for a device that only dials out; host 0.0.0.0 or ::
/// means "the address you see me from") and the SHA-256 of its device certificate's public key. User and device
/// must be the session's own: the server refuses any other with NotYourDevice (security.md 25).
/// </summary>
public sealed record DirectoryRegisterFrame(string User, string Device, string Endpoint, byte[] Fingerprint) : Frame
{
    /// <summary>A fingerprint is a SHA-256: 32 bytes.</summary>
    public const int FingerprintLength = 32;

    /// <summary>Longest endpoint text ("[v6 address]:port" fits easily).</summary>
    public const int MaxEndpointBytes = 128;

    public override FrameType Type => FrameType.DirectoryRegister;

    public override int PayloadLength() =>
        PayloadSize.String(User) + PayloadSize.String(Device) + PayloadSize.String(Endpoint) + PayloadSize.Blob(Fingerprint);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(User);
        writer.WriteString(Device);
        writer.WriteString(Endpoint);
        writer.WriteBlob(Fingerprint);
    }

    internal static DirectoryRegisterFrame Read(ref PayloadReader reader)
    {
        var frame = new DirectoryRegisterFrame(reader.ReadString(256), reader.ReadString(256), reader.ReadString(MaxEndpointBytes),
            reader.ReadBlob(FingerprintLength));
        if (frame.Fingerprint.Length != FingerprintLength)
        {
            ProtocolException.Throw(ErrorCode.Malformed, "a device key fingerprint is 32 bytes");
        }

        return frame;
    }

    public bool Equals(DirectoryRegisterFrame? other) =>
        other is not null && User == other.User && Device == other.Device && Endpoint == other.Endpoint && Fingerprint.AsSpan().SequenceEqual(other.Fingerprint);

    public override int GetHashCode() => HashCode.Combine(User, Device, Endpoint);
}
