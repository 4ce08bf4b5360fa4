namespace Parley.Protocol.Frames;

/// <summary>
/// AUTH_OK (0x82), server to client: the login succeeded. Carries the normalised user name, the device id, a new
/// resume token (the old one no longer works) and the last sequence number in the user's log.
/// </summary>
public sealed record AuthOkFrame(string User, string Device, byte[] Token, ulong Head) : Frame
{
    public override FrameType Type => FrameType.AuthOk;

    public override int PayloadLength() => PayloadSize.String(User) + PayloadSize.String(Device) + PayloadSize.Blob(Token) + 8;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(User);
        writer.WriteString(Device);
        writer.WriteBlob(Token);
        writer.WriteU64(Head);
    }

    public override string ToString() => $"AuthOk {{ User = {User}, Device = {Device}, Head = {Head} }}";

    internal static AuthOkFrame Read(ref PayloadReader reader) =>
        new(reader.ReadString(256), reader.ReadString(256), reader.ReadBlob(ResumeFrame.MaxTokenLength), reader.ReadU64());

    public bool Equals(AuthOkFrame? other) =>
        other is not null && User == other.User && Device == other.Device && Head == other.Head && Token.AsSpan().SequenceEqual(other.Token);

    public override int GetHashCode() => HashCode.Combine(User, Device, Head);
}
