using System.Buffers.Binary;

namespace Parley.Protocol.Tests;

/// <summary>Time-ordered message ids (docs/protocol.md §3): Unix milliseconds in the first 6 bytes, 80 random bits after.</summary>
public sealed class MessageIdTests
{
    [Fact]
    public void NewTimeOrdered_FirstSixBytesAreTheUnixMilliseconds()
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_795_000_123_456);

        var id = MessageId.NewTimeOrdered(now);

        Span<byte> bytes = stackalloc byte[MessageId.Size];
        id.CopyTo(bytes);
        Span<byte> padded = stackalloc byte[8];
        bytes[..6].CopyTo(padded[2..]);
        Assert.Equal(1_795_000_123_456UL, BinaryPrimitives.ReadUInt64BigEndian(padded));
    }

    [Fact]
    public void NewTimeOrdered_LaterMillisecond_SortsAfterAsBytesAndAsNumbers()
    {
        var earlier = DateTimeOffset.FromUnixTimeMilliseconds(1_795_000_000_000);
        for (var i = 0; i < 1000; i++)
        {
            var first = MessageId.NewTimeOrdered(earlier.AddMilliseconds(i));
            var second = MessageId.NewTimeOrdered(earlier.AddMilliseconds(i + 1));
            Assert.True(first.High < second.High);
            Assert.True(first.ToArray().AsSpan().SequenceCompareTo(second.ToArray()) < 0);
        }
    }

    [Fact]
    public void NewTimeOrdered_SameMillisecond_StillUniqueFromTheRandomBits()
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_795_000_000_000);

        var ids = Enumerable.Range(0, 10_000).Select(_ => MessageId.NewTimeOrdered(now)).ToHashSet();

        Assert.Equal(10_000, ids.Count);
        Assert.Single(ids.Select(id => id.High >> 16).Distinct());
    }
}
