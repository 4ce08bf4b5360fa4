using System.Buffers.Binary;
using System.Text;

namespace Parley.Protocol;

/// <summary>
/// Reads the fields of one frame's payload (docs/protocol.md, "Field types"). Every read checks the remaining
/// length first; anything short, over-long or badly encoded raises <see cref="ProtocolException"/>.
/// </summary>
public ref struct PayloadReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private ReadOnlySpan<byte> _rest;

    public PayloadReader(ReadOnlySpan<byte> payload) => _rest = payload;

    public readonly int Remaining => _rest.Length;

    public byte ReadU8()
    {
        Need(1);
        var v = _rest[0];
        _rest = _rest[1..];
        return v;
    }

    public ushort ReadU16()
    {
        Need(2);
        var v = BinaryPrimitives.ReadUInt16BigEndian(_rest);
        _rest = _rest[2..];
        return v;
    }

    public uint ReadU32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadUInt32BigEndian(_rest);
        _rest = _rest[4..];
        return v;
    }

    public ulong ReadU64()
    {
        Need(8);
        var v = BinaryPrimitives.ReadUInt64BigEndian(_rest);
        _rest = _rest[8..];
        return v;
    }

    public long ReadI64() => unchecked((long)ReadU64());

    public MessageId ReadMessageId()
    {
        Need(MessageId.Size);
        var id = new MessageId(_rest[..MessageId.Size]);
        _rest = _rest[MessageId.Size..];
        return id;
    }

    /// <summary>A u16-length-prefixed strict UTF-8 string of at most <paramref name="maxBytes"/> bytes.</summary>
    public string ReadString(int maxBytes = ProtocolLimits.MaxShortStringBytes)
    {
        int length = ReadU16();
        return ReadUtf8(length, maxBytes);
    }

    /// <summary>A u32-length-prefixed strict UTF-8 text of at most <paramref name="maxBytes"/> bytes.</summary>
    public string ReadText(int maxBytes)
    {
        var length = ReadU32();
        if (length > (uint)maxBytes)
        {
            ProtocolException.Throw(ErrorCode.TextTooLong, $"text of {length} bytes is over the limit of {maxBytes}");
        }

        return ReadUtf8((int)length, maxBytes);
    }

    /// <summary>A u16-length-prefixed byte string of at most <paramref name="maxBytes"/> bytes.</summary>
    public byte[] ReadBlob(int maxBytes)
    {
        int length = ReadU16();
        if (length > maxBytes)
        {
            ProtocolException.Throw(ErrorCode.Malformed, $"field of {length} bytes is over the limit of {maxBytes}");
        }

        Need(length);
        var bytes = _rest[..length].ToArray();
        _rest = _rest[length..];
        return bytes;
    }

    /// <summary>Exactly <paramref name="count"/> raw bytes with no length prefix (a SHA-256 digest).</summary>
    public byte[] ReadFixed(int count)
    {
        Need(count);
        var bytes = _rest[..count].ToArray();
        _rest = _rest[count..];
        return bytes;
    }

    /// <summary>A u32-length-prefixed byte string of at most <paramref name="maxBytes"/> bytes (file chunk data).</summary>
    public byte[] ReadData(int maxBytes)
    {
        var length = ReadU32();
        if (length > (uint)maxBytes)
        {
            ProtocolException.Throw(ErrorCode.Malformed, $"data of {length} bytes is over the limit of {maxBytes}");
        }

        return ReadFixed((int)length);
    }

    /// <summary>
    /// Skips a u32-length-prefixed byte string of at most <paramref name="maxBytes"/> bytes and returns its length,
    /// for a caller that keeps the bytes where they are (<see cref="ReadData"/> copies them).
    /// </summary>
    public int SkipData(int maxBytes)
    {
        var length = ReadU32();
        if (length > (uint)maxBytes)
        {
            ProtocolException.Throw(ErrorCode.Malformed, $"data of {length} bytes is over the limit of {maxBytes}");
        }

        Need((int)length);
        _rest = _rest[(int)length..];
        return (int)length;
    }

    /// <summary>Called after the last field: a frame with bytes left over is malformed.</summary>
    public readonly void EnsureEnd()
    {
        if (_rest.Length != 0)
        {
            ProtocolException.Throw(ErrorCode.Malformed, $"{_rest.Length} unexpected bytes after the last field");
        }
    }

    private string ReadUtf8(int length, int maxBytes)
    {
        if (length > maxBytes)
        {
            ProtocolException.Throw(ErrorCode.Malformed, $"string of {length} bytes is over the limit of {maxBytes}");
        }

        Need(length);
        string value;
        try
        {
            value = StrictUtf8.GetString(_rest[..length]);
        }
        catch (DecoderFallbackException)
        {
            throw new ProtocolException(ErrorCode.BadEncoding, "text is not valid UTF-8");
        }

        _rest = _rest[length..];
        return value;
    }

    private readonly void Need(int count)
    {
        if (_rest.Length < count)
        {
            ProtocolException.Throw(ErrorCode.Malformed, "frame ends in the middle of a field");
        }
    }
}
