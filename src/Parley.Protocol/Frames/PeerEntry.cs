namespace Parley.Protocol.Frames;

/// <summary>One device in a PEERS answer: its id, where it accepts direct links (empty: it does not), and its key fingerprint.</summary>
public sealed record PeerEntry(string Device, string Endpoint, byte[] Fingerprint)
{
    public bool Equals(PeerEntry? other) =>
        other is not null && Device == other.Device && Endpoint == other.Endpoint && Fingerprint.AsSpan().SequenceEqual(other.Fingerprint);

    public override int GetHashCode() => HashCode.Combine(Device, Endpoint);
}
