using System.Buffers;
using System.Buffers.Binary;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Client.P2P;

/// <summary>
/// Frames on a direct link: the same codec and limits as client-server (security.md 27). The declared length is
/// checked before the body is read or allocated.
/// </summary>
internal static class PeerFraming
{
    /// <summary>The next frame, or null at a clean end of stream.</summary>
    public static async Task<Frame?> ReadAsync(Stream stream, int maxFrameLength, CancellationToken cancellationToken)
    {
        var prefix = new byte[FrameCodec.LengthPrefixSize];
        var first = await stream.ReadAsync(prefix.AsMemory(0, 1), cancellationToken).ConfigureAwait(false);
        if (first == 0)
        {
            return null;
        }

        await stream.ReadExactlyAsync(prefix.AsMemory(1), cancellationToken).ConfigureAwait(false);
        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        if (length == 0)
        {
            ProtocolException.Throw(ErrorCode.Malformed, "frame length 0");
        }

        if (length > (uint)maxFrameLength)
        {
            ProtocolException.Throw(ErrorCode.FrameTooLarge, $"frame of {length} bytes is over the limit of {maxFrameLength}");
        }

        var body = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            await stream.ReadExactlyAsync(body.AsMemory(0, (int)length), cancellationToken).ConfigureAwait(false);
            return FrameCodec.Decode(body.AsSpan(0, (int)length), ProtocolLimits.Default);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    public static async Task WriteAsync(Stream stream, Frame frame, CancellationToken cancellationToken)
    {
        var bytes = FrameCodec.Encode(frame);
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
