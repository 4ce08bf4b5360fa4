using System.Security.Cryptography;
using Parley.IO;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Client.Files;

/// <summary>
/// Fetches a file offered to (or sent by) this user: writes it to FOLDER/.parley-partial/&lt;id&gt;.part from the last
/// byte it has, reconnecting and resuming after a dropped connection, checks its SHA-256, and only then moves it to a
/// new file with a sanitised name (<see cref="FileNameSanitizer"/>). A mismatch deletes the partial file.
/// </summary>
/// <param name="connect">The current connection, reconnecting when it has dropped.</param>
public sealed class FileDownloader(Func<CancellationToken, Task<ParleyConnection>> connect)
{
    /// <summary>The folder, inside the downloads folder, where partial downloads are kept between runs.</summary>
    public const string PartialFolderName = ".parley-partial";

    /// <summary>Called with (bytes on disk, file size) as the download advances, including the resumed start.</summary>
    public Action<long, long>? Progress { get; init; }

    /// <summary>Called with the FILE_INFO of the file once the server answered.</summary>
    public Action<FileInfoFrame>? Started { get; init; }

    /// <summary>Downloads file <paramref name="fileId"/> into <paramref name="folder"/>; returns the full path of the new file.</summary>
    public async Task<string> DownloadAsync(MessageId fileId, string folder, CancellationToken cancellationToken = default)
    {
        var partial = Path.Combine(Path.GetFullPath(folder), PartialFolderName);
        Directory.CreateDirectory(partial);
        var partPath = Path.Combine(partial, fileId.ToString() + ".part");
        var backoff = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            var connection = await connect(cancellationToken).ConfigureAwait(false);
            try
            {
                var info = await DownloadOnceAsync(connection, fileId, partPath, cancellationToken).ConfigureAwait(false);
                if (info is null)
                {
                    continue; // the partial file was longer than the file: it was discarded, start again
                }

                var target = FileNameSanitizer.CreateUnique(folder, info.Name);
                // The target was just created empty with CreateNew, so replacing it overwrites nothing of the user's.
                File.Move(partPath, target, overwrite: true);
                return target;
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task<FileInfoFrame?> DownloadOnceAsync(ParleyConnection connection, MessageId fileId, string partPath, CancellationToken cancellationToken)
    {
        using var frames = connection.OpenFileStream(fileId);
        var part = new FileStream(partPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, useAsync: true);
        await using (part.ConfigureAwait(false))
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            // The hash of the bytes already on disk is recomputed: no hash state needs to survive a crash.
            await FileHashing.AppendAsync(hash, part, part.Length, dropBehind: true, cancellationToken).ConfigureAwait(false);

            var offset = part.Length;
            var cache = new PageCacheWindow(part.SafeFileHandle, offset);
            await connection.SendFileFrameAsync(new FileOffsetFrame(FrameType.Download, fileId, (ulong)Math.Max(0, offset)), cancellationToken).ConfigureAwait(false);
            var info = (FileInfoFrame)await frames.ReadAsync(cancellationToken).ConfigureAwait(false);
            Started?.Invoke(info);
            Progress?.Invoke(offset, (long)info.Size);
            while (true)
            {
                var frame = await frames.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (frame is FileChunkFrame chunk)
                {
                    if (chunk.Offset != (ulong)offset)
                    {
                        throw new ProtocolException(ErrorCode.ProtocolError, $"chunk at {chunk.Offset}, expected {offset}");
                    }

                    await part.WriteAsync(chunk.Data, cancellationToken).ConfigureAwait(false);
                    hash.AppendData(chunk.Data.Span);
                    offset += chunk.Data.Length;
                    chunk.ReturnBuffer();
                    cache.Wrote(offset);
                    Progress?.Invoke(offset, (long)info.Size);
                    continue;
                }

                var end = (FileOffsetFrame)frame;
                if ((ulong)offset != end.Offset || !hash.GetHashAndReset().AsSpan().SequenceEqual(info.Sha256))
                {
                    await part.DisposeAsync().ConfigureAwait(false);
                    File.Delete(partPath);
                    throw new InvalidDataException($"file {fileId} did not match its SHA-256; the partial download was deleted");
                }

                part.Flush(flushToDisk: true);
                return info;
            }
        }
    }
}
