namespace Parley.Protocol.Frames;

/// <summary>PRESENCE (0x94), server to client: a user came online (first device) or went offline (last device).</summary>
public sealed record PresenceFrame(string User, bool Online) : Frame
{
    public override FrameType Type => FrameType.Presence;

    public override int PayloadLength() => PayloadSize.String(User) + 1;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(User);
        writer.WriteU8(Online ? (byte)1 : (byte)0);
    }

    internal static PresenceFrame Read(ref PayloadReader reader)
    {
        var user = reader.ReadString(256);
        var online = reader.ReadU8() switch
        {
            0 => false,
            1 => true,
            _ => throw new ProtocolException(ErrorCode.Malformed, "presence flag must be 0 or 1"),
        };
        return new PresenceFrame(user, online);
    }
}
