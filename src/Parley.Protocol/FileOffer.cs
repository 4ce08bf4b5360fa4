namespace Parley.Protocol;

/// <summary>
/// A file offered in a log entry: the id it is stored under on the server (also the entry's message id), the name the
/// sender gave (metadata only: never used as a path without sanitising), its size and SHA-256.
/// </summary>
public sealed record FileOffer(MessageId FileId, string Name, ulong Size, byte[] Sha256)
{
    /// <summary>Text shown by clients that know nothing of files (and stored as the entry's body).</summary>
    public string Describe() => $"[file] {Name} ({Size} bytes, id {FileId})";

    /// <summary>Value equality on the digest's bytes, not the array reference.</summary>
    public bool Equals(FileOffer? other) =>
        other is not null && FileId == other.FileId && Name == other.Name && Size == other.Size && Sha256.AsSpan().SequenceEqual(other.Sha256);

    public override int GetHashCode() => HashCode.Combine(FileId, Name, Size);
}
