namespace Parley.Protocol.Frames;

/// <summary>
/// REGISTER (0x02) and LOGIN (0x03), client to server: a user name, a password and the device id of this install.
/// Sent only inside a TLS session whose server key the client has verified.
/// </summary>
public sealed record CredentialsFrame(FrameType Kind, string User, string Password, string Device) : Frame
{
    public override FrameType Type => Kind;

    public override int PayloadLength() => PayloadSize.String(User) + PayloadSize.String(Password) + PayloadSize.String(Device);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(User);
        writer.WriteString(Password);
        writer.WriteString(Device);
    }

    /// <summary>Leaves the password out, so a frame can be logged.</summary>
    public override string ToString() => $"{Kind} {{ User = {User}, Device = {Device} }}";

    internal static CredentialsFrame Read(FrameType kind, ref PayloadReader reader) =>
        new(kind, reader.ReadString(256), reader.ReadString(), reader.ReadString(256));
}
