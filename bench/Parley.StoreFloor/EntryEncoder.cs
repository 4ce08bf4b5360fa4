using System.Buffers.Binary;

namespace Parley.StoreFloor;

/// <summary>
/// Packs entries into one byte buffer, each field length-prefixed: what a layout that stores many entries in one blob
/// has to do per entry. The buffer grows and is reused.
/// </summary>
internal sealed class EntryEncoder
{
    private byte[] _buffer = new byte[64 * 1024];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>One log entry: owner, sequence, id, sender, recipient, time, sender's sequence, text.</summary>
    public void Add(ReadOnlySpan<byte> owner, long sequence, in FloorMessage message, MessageSource source, long senderSequence)
    {
        Bytes(owner);
        Int64(sequence);
        Bytes(message.Id);
        Bytes(source.Users[message.From]);
        Bytes(source.Users[message.To]);
        Int64(message.Time);
        Int64(senderSequence);
        Bytes(source.Text);
    }

    private void Bytes(ReadOnlySpan<byte> value)
    {
        Reserve(4 + value.Length);
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(Length), value.Length);
        value.CopyTo(_buffer.AsSpan(Length + 4));
        Length += 4 + value.Length;
    }

    private void Int64(long value)
    {
        Reserve(8);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(Length), value);
        Length += 8;
    }

    private void Reserve(int bytes)
    {
        if (Length + bytes > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + bytes));
        }
    }
}
