using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Parley.Protocol;

/// <summary>
/// A message's 128-bit id, chosen by the sending client (time-ordered: <see cref="NewTimeOrdered()"/>). The server deduplicates on (sender, id), so a
/// retry after a lost acknowledgement never makes a second copy.
/// </summary>
public readonly record struct MessageId(ulong High, ulong Low)
{
    public const int Size = 16;

    public MessageId(ReadOnlySpan<byte> bytes)
        : this(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]))
    {
    }

    /// <summary>The all-zero id, used where a frame refers to no message.</summary>
    public static MessageId None => default;

    public bool IsNone => High == 0 && Low == 0;

    public static MessageId NewRandom()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes);
        return new MessageId(bytes);
    }

    /// <summary>
    /// An id whose first 48 bits are the Unix time in milliseconds and whose other 80 are random (the layout of a
    /// UUIDv7). The server accepts any id, but it indexes submissions by (sender, id): ids that grow with time land
    /// next to the sender's previous ones, where random ids scatter one write over the whole index (docs/protocol.md).
    /// </summary>
    public static MessageId NewTimeOrdered() => NewTimeOrdered(DateTimeOffset.UtcNow);

    /// <summary>A time-ordered id for <paramref name="now"/>; see <see cref="NewTimeOrdered()"/>.</summary>
    public static MessageId NewTimeOrdered(DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes[6..]);
        var milliseconds = (ulong)now.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteUInt64BigEndian(bytes, (milliseconds << 16) | BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]));
        return new MessageId(bytes);
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>32 lower-case hex digits.</summary>
    public override string ToString() => $"{High:x16}{Low:x16}";

    public static MessageId Parse(string hex)
    {
        if (hex.Length != 32)
        {
            throw new FormatException("a message id is 32 hex digits");
        }

        return new MessageId(Convert.FromHexString(hex));
    }
}
