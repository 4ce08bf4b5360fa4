namespace Parley.Client.Files;

/// <summary>
/// What a home remembers about a file being sent, so that `parley send-file` run again after a crash resumes with the
/// same file id (the server then answers with the offset it already has) and without hashing the file again.
/// <see cref="Sha256"/> (lower-case hex) is empty when the upload gives its hash last (protocol version 2, UPLOAD_END).
/// </summary>
public sealed record UploadResumeState(string FileId, string Path, string To, string Name, long Size, long LastWriteTicks, string Sha256);
