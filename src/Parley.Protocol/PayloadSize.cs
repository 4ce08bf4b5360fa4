using System.Text;

namespace Parley.Protocol;

/// <summary>Byte counts of the field types, used by encoders to size a frame before writing it.</summary>
public static class PayloadSize
{
    public static int String(string value) => 2 + Encoding.UTF8.GetByteCount(value);

    public static int Text(string value) => 4 + Encoding.UTF8.GetByteCount(value);

    public static int Blob(ReadOnlySpan<byte> value) => 2 + value.Length;
}
