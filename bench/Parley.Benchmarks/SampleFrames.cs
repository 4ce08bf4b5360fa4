using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Benchmarks;

/// <summary>
/// The frames the codec benchmarks encode and decode: a SEND and a DELIVER carrying the same 100-byte ASCII text,
/// which is the size of a typical chat line. Fixed ids and times keep every run byte-identical.
/// </summary>
public static class SampleFrames
{
    /// <summary>100 bytes of UTF-8 (all ASCII, so byte count equals char count).</summary>
    public static readonly string Text100 = new('x', 100);

    public static readonly MessageId Id = new(0x0011223344556677UL, 0x8899aabbccddeeffUL);

    public static SendFrame Send { get; } = new(Id, "bob", Text100);

    public static DeliverFrame Deliver { get; } = new(42, Id, "alice", "bob", 1_700_000_000_000, Text100);
}
