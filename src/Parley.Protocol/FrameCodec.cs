using System.Buffers;
using System.Buffers.Binary;
using Parley.Protocol.Frames;

namespace Parley.Protocol;

/// <summary>
/// Frames on the wire: a 4-byte big-endian length L, then L bytes made of a 1-byte type and the payload
/// (docs/protocol.md, "Framing"). Stateless and thread-safe.
/// </summary>
public static class FrameCodec
{
    /// <summary>Bytes before the type byte: the length prefix.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>
    /// Decodes one frame from the front of <paramref name="buffer"/>. Returns false, consuming nothing, when the
    /// buffer does not yet hold a whole frame; on success advances <paramref name="buffer"/> past the frame.
    /// The declared length is checked against <paramref name="maxFrameLength"/> as soon as the 4 length bytes are
    /// there, before waiting for or allocating the body (security.md 5).
    /// </summary>
    /// <exception cref="ProtocolException">The input is malformed; the only exception this method throws.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameLength, ProtocolLimits limits, out Frame? frame)
    {
        frame = null;
        if (buffer.Length < LengthPrefixSize)
        {
            return false;
        }

        uint length;
        if (buffer.FirstSpan.Length >= LengthPrefixSize)
        {
            length = BinaryPrimitives.ReadUInt32BigEndian(buffer.FirstSpan);
        }
        else
        {
            Span<byte> prefix = stackalloc byte[LengthPrefixSize];
            buffer.Slice(0, LengthPrefixSize).CopyTo(prefix);
            length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        }

        if (length == 0)
        {
            ProtocolException.Throw(ErrorCode.Malformed, "frame length 0: a frame has at least a type byte");
        }

        if (length > (uint)maxFrameLength)
        {
            ProtocolException.Throw(ErrorCode.FrameTooLarge, $"frame of {length} bytes is over the limit of {maxFrameLength}");
        }

        if (buffer.Length < LengthPrefixSize + length)
        {
            return false;
        }

        var body = buffer.Slice(LengthPrefixSize, length);
        if (body.IsSingleSegment)
        {
            frame = Decode(body.FirstSpan, limits);
        }
        else
        {
            // A frame split across segments is copied once into a pooled buffer (at most maxFrameLength bytes). A file
            // chunk (up to 256 KiB: always split) keeps it for its data, until its reader calls ReturnBuffer.
            var rented = ArrayPool<byte>.Shared.Rent((int)length);
            var keep = false;
            try
            {
                body.CopyTo(rented);
                if ((FrameType)rented[0] is FrameType.UploadChunk or FrameType.FileChunk)
                {
                    frame = FileChunkFrame.ReadPooled(rented, (int)length);
                    keep = true;
                }
                else
                {
                    frame = Decode(rented.AsSpan(0, (int)length), limits);
                }
            }
            finally
            {
                if (!keep)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }

        buffer = buffer.Slice(body.End);
        return true;
    }

    /// <summary>Decodes a frame body: type byte then payload, with no length prefix.</summary>
    public static Frame Decode(ReadOnlySpan<byte> body, ProtocolLimits limits)
    {
        if (body.IsEmpty)
        {
            ProtocolException.Throw(ErrorCode.Malformed, "empty frame");
        }

        var type = (FrameType)body[0];
        var reader = new PayloadReader(body[1..]);
        Frame frame = type switch
        {
            FrameType.Hello => HelloFrame.Read(ref reader),
            FrameType.Register or FrameType.Login => CredentialsFrame.Read(type, ref reader),
            FrameType.Resume => ResumeFrame.Read(ref reader),
            FrameType.Logout or FrameType.Who => new EmptyFrame(type),
            FrameType.Send => SendFrame.Read(ref reader, limits),
            FrameType.Ack or FrameType.Sync or FrameType.Synced or FrameType.Ping or FrameType.Pong => SequenceFrame.Read(type, ref reader),
            FrameType.Welcome => WelcomeFrame.Read(ref reader),
            FrameType.AuthOk => AuthOkFrame.Read(ref reader),
            FrameType.SendOk => SendOkFrame.Read(ref reader),
            FrameType.Deliver => DeliverFrame.Read(ref reader, limits),
            FrameType.WhoList => WhoListFrame.Read(ref reader),
            FrameType.Presence => PresenceFrame.Read(ref reader),
            FrameType.Watch => WatchFrame.Read(ref reader),
            FrameType.Receipt => ReceiptFrame.Read(ref reader),
            FrameType.History => HistoryFrame.Read(ref reader),
            FrameType.ChangePassword => ChangePasswordFrame.Read(ref reader),
            FrameType.HistoryPage => HistoryPageFrame.Read(ref reader, limits),
            FrameType.Error => ErrorFrame.Read(ref reader),
            FrameType.UploadStart => UploadStartFrame.Read(ref reader),
            FrameType.UploadChunk or FrameType.FileChunk => FileChunkFrame.Read(type, ref reader),
            FrameType.Download or FrameType.UploadReady or FrameType.FileEnd => FileOffsetFrame.Read(type, ref reader),
            FrameType.UploadDone => UploadDoneFrame.Read(ref reader),
            FrameType.UploadEnd => UploadEndFrame.Read(ref reader),
            FrameType.FileInfo => FileInfoFrame.Read(ref reader),
            FrameType.DeliverFile => DeliverFileFrame.Read(ref reader),
            FrameType.DirectoryRegister => DirectoryRegisterFrame.Read(ref reader),
            FrameType.DirectoryRegistered => DirectoryRegisteredFrame.Read(ref reader),
            FrameType.Heartbeat => HeartbeatFrame.Read(ref reader),
            FrameType.HeartbeatOk => HeartbeatOkFrame.Read(ref reader),
            FrameType.Lookup => LookupFrame.Read(ref reader),
            FrameType.Peers => PeersFrame.Read(ref reader),
            FrameType.PeerHello => PeerHelloFrame.Read(ref reader),
            FrameType.PeerHelloAck => PeerHelloAckFrame.Read(ref reader),
            FrameType.PeerMessage => PeerMessageFrame.Read(ref reader, limits),
            FrameType.PeerAck => PeerAckFrame.Read(ref reader),
            _ => throw new ProtocolException(ErrorCode.UnknownFrameType, $"unknown frame type 0x{(byte)type:x2}"),
        };
        reader.EnsureEnd();
        return frame;
    }

    /// <summary>
    /// Writes <paramref name="frame"/> with its length prefix into <paramref name="output"/>. Refuses to write a frame
    /// over <paramref name="maxFrameLength"/>, so this side never sends what the other side must reject.
    /// </summary>
    public static int Write(IBufferWriter<byte> output, Frame frame, int maxFrameLength = 1024 * 1024)
    {
        var payload = frame.PayloadLength();
        var length = 1 + payload;
        if (length > maxFrameLength)
        {
            ProtocolException.Throw(ErrorCode.FrameTooLarge, $"frame of {length} bytes is over the limit of {maxFrameLength}");
        }

        var total = LengthPrefixSize + length;
        var span = output.GetSpan(total)[..total];
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)length);
        span[LengthPrefixSize] = (byte)frame.Type;
        var writer = new PayloadWriter(span[(LengthPrefixSize + 1)..]);
        frame.WritePayload(ref writer);
        output.Advance(total);
        return total;
    }

    /// <summary>Encodes one frame into a new array (tests, tools; the hot paths use <see cref="Write"/>).</summary>
    public static byte[] Encode(Frame frame)
    {
        var buffer = new ArrayBufferWriter<byte>(LengthPrefixSize + 1 + frame.PayloadLength());
        Write(buffer, frame, int.MaxValue);
        return buffer.WrittenSpan.ToArray();
    }
}
