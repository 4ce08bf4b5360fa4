namespace Parley.Protocol.Frames;

/// <summary>Frames without fields: LOGOUT (0x05) and WHO (0x13).</summary>
public sealed record EmptyFrame(FrameType Kind) : Frame
{
    public static EmptyFrame Logout { get; } = new(FrameType.Logout);

    public static EmptyFrame Who { get; } = new(FrameType.Who);

    public override FrameType Type => Kind;

    public override int PayloadLength() => 0;

    public override void WritePayload(ref PayloadWriter writer)
    {
    }
}
