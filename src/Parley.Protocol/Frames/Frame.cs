namespace Parley.Protocol.Frames;

/// <summary>
/// One decoded frame. Each subtype knows its payload layout (docs/protocol.md, "Frames"); <see cref="FrameCodec"/>
/// adds the 4-byte length and the type byte.
/// </summary>
public abstract record Frame
{
    public abstract FrameType Type { get; }

    /// <summary>Size of the payload in bytes (without length prefix and type byte).</summary>
    public abstract int PayloadLength();

    /// <summary>Writes the payload; the writer holds exactly <see cref="PayloadLength"/> bytes.</summary>
    public abstract void WritePayload(ref PayloadWriter writer);

    /// <summary>True for the frames a connection may send before it has logged in (security.md 9). HEARTBEAT is one: it carries its own directory secret.</summary>
    public bool IsPreAuth => Type is FrameType.Hello or FrameType.Register or FrameType.Login or FrameType.Resume or FrameType.Ping or FrameType.Pong
        or FrameType.Heartbeat;
}
