using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Terminal.Tests;

/// <summary>Log entries as the server would deliver them.</summary>
internal static class Frames
{
    public static readonly DateTimeOffset Noon = new(2025, 10, 14, 12, 0, 0, TimeSpan.Zero);

    public static DeliverFrame Message(ulong sequence, string from, string to, string text, DateTimeOffset? time = null) =>
        new(sequence, MessageId.NewRandom(), from, to, (time ?? Noon.AddMinutes(sequence)).ToUnixTimeMilliseconds(), text);
}
