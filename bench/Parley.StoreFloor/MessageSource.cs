namespace Parley.StoreFloor;

/// <summary>
/// The messages every layout stores, the same for each (a fixed seed): random pairs among the users, 16-byte ids that
/// rise with time, one text of the given length for all, and per-user sequence numbers as a log would assign them.
/// </summary>
internal sealed class MessageSource
{
    private readonly Random _random = new(20261129);
    private readonly long[] _heads;
    private long _issued;

    public MessageSource(int users, int textBytes)
    {
        Users = [.. Enumerable.Range(0, users).Select(i => System.Text.Encoding.UTF8.GetBytes($"user{i:D5}"))];
        Text = System.Text.Encoding.UTF8.GetBytes(new string('x', textBytes));
        _heads = new long[users];
    }

    /// <summary>Each user's name, in UTF-8.</summary>
    public byte[][] Users { get; }

    /// <summary>The text every message carries, in UTF-8.</summary>
    public byte[] Text { get; }

    /// <summary>The SHA-256 a store keeps per submission to recognise a retry; its value does not matter here.</summary>
    public byte[] Digest { get; } = new byte[32];

    public FloorMessage Next()
    {
        var from = _random.Next(Users.Length);
        var to = (from + 1 + _random.Next(Users.Length - 1)) % Users.Length;
        // Ids rise with time, as a Parley client's do (MessageId.NewTimeOrdered): a counter where the time would be,
        // then random bytes. Random ids would scatter the submissions' index inserts over the whole tree.
        var id = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(id, ++_issued);
        _random.NextBytes(id.AsSpan(8));
        return new FloorMessage(from, to, id, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ++_heads[to], ++_heads[from]);
    }
}
