namespace Parley.Server.Files;

/// <summary>
/// What the server knows of one uploaded file, kept as a small JSON file next to the blob so that an upload survives
/// a restart and resumes from the bytes on disk. <see cref="Name"/> is the sender's wire name: metadata only.
/// </summary>
internal sealed class BlobRecord
{
    public required string Id { get; init; }

    public required string Sender { get; init; }

    public required string Recipient { get; init; }

    public required string Name { get; init; }

    public required long Size { get; init; }

    public required string Sha256 { get; init; }

    /// <summary>Unix milliseconds of the UPLOAD_START that created it; retention counts from here.</summary>
    public required long Created { get; init; }

    /// <summary>All bytes arrived, the hash matched and the blob was renamed into place.</summary>
    public bool Complete { get; set; }

    /// <summary>The recipient downloaded it to the end once: it no longer counts against the sender's quota.</summary>
    public bool Fetched { get; set; }
}
