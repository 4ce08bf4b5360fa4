namespace Parley.Protocol.Frames;

/// <summary>
/// CHANGE_PASSWORD (0x17), client to server, after login: the current password and a new one. On success the server
/// revokes every resume token of the user, closes the user's other sessions, and answers AUTH_OK with a new token
/// for this device (security.md 19).
/// </summary>
public sealed record ChangePasswordFrame(string Current, string Replacement) : Frame
{
    public override FrameType Type => FrameType.ChangePassword;

    public override int PayloadLength() => PayloadSize.String(Current) + PayloadSize.String(Replacement);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(Current);
        writer.WriteString(Replacement);
    }

    /// <summary>Leaves the passwords out, so a frame can be logged.</summary>
    public override string ToString() => "ChangePassword { }";

    internal static ChangePasswordFrame Read(ref PayloadReader reader) => new(reader.ReadString(), reader.ReadString());
}
