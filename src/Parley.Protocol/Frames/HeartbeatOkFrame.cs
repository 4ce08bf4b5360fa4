namespace Parley.Protocol.Frames;

/// <summary>
/// HEARTBEAT_OK (0xB1), server to client: the entry is alive until the next deadline. Pending is how many entries of
/// the user's log this device has not acknowledged (messages parked on the server for it); when it is not zero the
/// device connects, SYNCs and acknowledges. IntervalMs is the heartbeat interval the server expects.
/// </summary>
public sealed record HeartbeatOkFrame(ulong Pending, uint IntervalMs) : Frame
{
    public override FrameType Type => FrameType.HeartbeatOk;

    public override int PayloadLength() => 8 + 4;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU64(Pending);
        writer.WriteU32(IntervalMs);
    }

    internal static HeartbeatOkFrame Read(ref PayloadReader reader) => new(reader.ReadU64(), reader.ReadU32());
}
