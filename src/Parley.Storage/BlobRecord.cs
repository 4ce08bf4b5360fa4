namespace Parley.Storage;

/// <summary>
/// What the server knows of one uploaded file: who sent it to whom, its declared size and SHA-256, and how far it
/// got. Kept by an <see cref="IBlobStorage"/> (a JSON file next to the blob, or a NATS KV entry in cluster mode) so that
/// an upload survives a restart and its limits (quota, retention) can be checked. <see cref="Name"/> is the sender's
/// wire name: metadata only, never a path.
/// </summary>
public sealed class BlobRecord
{
    /// <summary>The file id (32 hex digits), validated by the server.</summary>
    public required string Id { get; init; }

    public required string Sender { get; init; }

    public required string Recipient { get; init; }

    public required string Name { get; init; }

    public required long Size { get; init; }

    /// <summary>
    /// The declared SHA-256, lower-case hex; the upload is kept only if the bytes match it. Empty while an upload whose
    /// UPLOAD_START left the hash to UPLOAD_END (protocol version 2) is under way; set when it completes.
    /// </summary>
    public required string Sha256 { get; set; }

    /// <summary>Unix milliseconds of the UPLOAD_START that created it; retention counts from here.</summary>
    public required long Created { get; init; }

    /// <summary>All bytes arrived, the hash matched and the blob was stored where every reader finds it.</summary>
    public bool Complete { get; set; }

    /// <summary>The recipient downloaded it to the end once: it no longer counts against the sender's quota.</summary>
    public bool Fetched { get; set; }
}
