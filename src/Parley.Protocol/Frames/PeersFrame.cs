namespace Parley.Protocol.Frames;

/// <summary>
/// PEERS (0xB2), server to client: the answer to LOOKUP, the live directory entries of User (none when the user is
/// unknown, offline or not in P2P mode: one answer for all, so lookups cannot probe accounts). Newest heartbeat first.
/// </summary>
public sealed record PeersFrame(string User, IReadOnlyList<PeerEntry> Entries) : Frame
{
    /// <summary>Most entries in one answer.</summary>
    public const int MaxEntries = 64;

    public override FrameType Type => FrameType.Peers;

    public override int PayloadLength()
    {
        var size = PayloadSize.String(User) + 2;
        foreach (var entry in Entries)
        {
            size += PayloadSize.String(entry.Device) + PayloadSize.String(entry.Endpoint) + PayloadSize.Blob(entry.Fingerprint);
        }

        return size;
    }

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteString(User);
        writer.WriteU16(checked((ushort)Entries.Count));
        foreach (var entry in Entries)
        {
            writer.WriteString(entry.Device);
            writer.WriteString(entry.Endpoint);
            writer.WriteBlob(entry.Fingerprint);
        }
    }

    internal static PeersFrame Read(ref PayloadReader reader)
    {
        var user = reader.ReadString(256);
        int count = reader.ReadU16();
        if (count > MaxEntries)
        {
            ProtocolException.Throw(ErrorCode.Malformed, $"PEERS with {count} entries; at most {MaxEntries}");
        }

        var entries = new List<PeerEntry>(count);
        for (var i = 0; i < count; i++)
        {
            entries.Add(new PeerEntry(reader.ReadString(256), reader.ReadString(DirectoryRegisterFrame.MaxEndpointBytes),
                reader.ReadBlob(DirectoryRegisterFrame.FingerprintLength)));
        }

        return new PeersFrame(user, entries);
    }

    public bool Equals(PeersFrame? other) => other is not null && User == other.User && Entries.SequenceEqual(other.Entries);

    public override int GetHashCode() => HashCode.Combine(User, Entries.Count);
}
