using System.Buffers.Binary;
using System.Text;

namespace Parley.Protocol;

/// <summary>
/// Writes fields into a span sized beforehand with <see cref="PayloadSize"/>. Encoders size first and write once,
/// so a frame is built in place in the output buffer with no intermediate arrays.
/// </summary>
public ref struct PayloadWriter
{
    private Span<byte> _rest;

    public PayloadWriter(Span<byte> destination) => _rest = destination;

    public readonly int Remaining => _rest.Length;

    public void WriteU8(byte value)
    {
        _rest[0] = value;
        _rest = _rest[1..];
    }

    public void WriteU16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_rest, value);
        _rest = _rest[2..];
    }

    public void WriteU32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_rest, value);
        _rest = _rest[4..];
    }

    public void WriteU64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_rest, value);
        _rest = _rest[8..];
    }

    public void WriteI64(long value) => WriteU64(unchecked((ulong)value));

    public void WriteMessageId(MessageId id)
    {
        id.CopyTo(_rest);
        _rest = _rest[MessageId.Size..];
    }

    public void WriteString(string value)
    {
        var length = Encoding.UTF8.GetBytes(value, _rest[2..]);
        BinaryPrimitives.WriteUInt16BigEndian(_rest, checked((ushort)length));
        _rest = _rest[(2 + length)..];
    }

    public void WriteText(string value)
    {
        var length = Encoding.UTF8.GetBytes(value, _rest[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(_rest, (uint)length);
        _rest = _rest[(4 + length)..];
    }

    public void WriteBlob(ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_rest, checked((ushort)value.Length));
        value.CopyTo(_rest[2..]);
        _rest = _rest[(2 + value.Length)..];
    }

    /// <summary>Raw bytes with no length prefix (a SHA-256 digest of known size).</summary>
    public void WriteFixed(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_rest);
        _rest = _rest[value.Length..];
    }

    /// <summary>A u32 length, then the bytes (file chunk data).</summary>
    public void WriteData(ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_rest, (uint)value.Length);
        value.CopyTo(_rest[4..]);
        _rest = _rest[(4 + value.Length)..];
    }
}
