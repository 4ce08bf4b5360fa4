namespace Parley.Protocol.Frames;

/// <summary>RESUME (0x04), client to server: log in again with the resume token the last AUTH_OK gave this device.</summary>
public sealed record ResumeFrame(string User, byte[] Token, string Device) : Frame
{
    public const int MaxTokenLength = 64;

    public override FrameType Type => FrameType.Resume;

    public override int PayloadLength() => PayloadSize.String(User) + PayloadSize.Blob(Token) + PayloadSize.String(Device);

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(User);
        writer.WriteBlob(Token);
        writer.WriteString(Device);
    }

    public override string ToString() => $"Resume {{ User = {User}, Device = {Device} }}";

    internal static ResumeFrame Read(ref PayloadReader reader) =>
        new(reader.ReadString(256), reader.ReadBlob(MaxTokenLength), reader.ReadString(256));

    public bool Equals(ResumeFrame? other) =>
        other is not null && User == other.User && Device == other.Device && Token.AsSpan().SequenceEqual(other.Token);

    public override int GetHashCode() => HashCode.Combine(User, Device, Token.Length);
}
