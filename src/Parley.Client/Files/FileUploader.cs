using System.Security.Cryptography;
using Parley.IO;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Client.Files;

/// <summary>
/// Sends a file to a user through the server: announces it with UPLOAD_START, sends UPLOAD_CHUNK from the offset the
/// server already has, and with a server of protocol version 2 or later gives the SHA-256 last, in UPLOAD_END, hashing
/// the bytes as they go (an older server gets the hash in UPLOAD_START, which means reading the file twice).
/// Reconnects and resumes after a dropped connection. Reads one chunk at a time, so memory does not grow with the file.
/// </summary>
/// <param name="connect">The current connection, reconnecting when it has dropped (<see cref="DeviceSession.ConnectedAsync"/>).</param>
/// <param name="stateFolder">Where resume state is kept (HOME/uploads).</param>
public sealed class FileUploader(Func<CancellationToken, Task<ParleyConnection>> connect, string stateFolder)
{
    /// <summary>Data bytes per UPLOAD_CHUNK.</summary>
    public static int ChunkBytes { get; set; } = FileTransferLimits.MaxChunkBytes;

    /// <summary>Called with (bytes the server has, file size) as the upload advances, including the resumed start.</summary>
    public Action<long, long>? Progress { get; init; }

    /// <summary>Called once the server answered UPLOAD_READY, with the offset it already had (tests, progress lines).</summary>
    public Action<long>? Resuming { get; init; }

    /// <summary>Uploads <paramref name="path"/> to <paramref name="to"/> under <paramref name="wireName"/> (default: the file's name).</summary>
    public async Task<UploadDoneFrame> UploadAsync(string path, string to, string? wireName = null, CancellationToken cancellationToken = default)
    {
        var state = await UploadStateFiles.LoadOrCreateAsync(stateFolder, Path.GetFullPath(path), to, wireName, cancellationToken, hashNow: false)
            .ConfigureAwait(false);
        var fileId = MessageId.Parse(state.FileId);
        var backoff = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            var connection = await connect(cancellationToken).ConfigureAwait(false);
            try
            {
                if (connection.Version < ProtocolVersion.V2)
                {
                    state = await UploadStateFiles.WithHashAsync(stateFolder, state, cancellationToken).ConfigureAwait(false);
                }

                var done = await UploadOnceAsync(connection, state, fileId, cancellationToken).ConfigureAwait(false);
                UploadStateFiles.Forget(stateFolder, state);
                return done;
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                // Dropped connection or server restart: the server keeps the .part; ask again where to go on from.
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
            catch (ParleyErrorException error) when (error.Code is ErrorCode.HashMismatch or ErrorCode.UnknownFile or ErrorCode.FileTooLarge)
            {
                // The server deleted its copy (or the id is unusable): the next run starts over with a new id.
                UploadStateFiles.Forget(stateFolder, state);
                throw;
            }
        }
    }

    private async Task<UploadDoneFrame> UploadOnceAsync(ParleyConnection connection, UploadResumeState state, MessageId fileId, CancellationToken cancellationToken)
    {
        // No hash yet: all zeros in UPLOAD_START, the real one in UPLOAD_END (protocol version 2).
        var hashLast = state.Sha256.Length == 0;
        var sha = hashLast ? new byte[FileTransferLimits.HashBytes] : Convert.FromHexString(state.Sha256);
        using var frames = connection.OpenFileStream(fileId);
        await connection.SendFileFrameAsync(new UploadStartFrame(fileId, state.To, state.Name, (ulong)state.Size, sha), cancellationToken).ConfigureAwait(false);
        var answer = await frames.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (answer is UploadDoneFrame already)
        {
            Progress?.Invoke(state.Size, state.Size);
            return already;
        }

        var offset = (long)((FileOffsetFrame)answer).Offset;
        Resuming?.Invoke(offset);
        Progress?.Invoke(offset, state.Size);
        var file = new FileStream(state.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            if (file.Length != state.Size || File.GetLastWriteTimeUtc(state.Path).Ticks != state.LastWriteTicks)
            {
                UploadStateFiles.Forget(stateFolder, state);
                throw new InvalidOperationException($"{state.Path} changed while it was being sent; send it again");
            }

            var buffer = new byte[ChunkBytes];
            using var hash = hashLast ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            if (hash is not null)
            {
                // A resumed upload: the hash covers the bytes the server already has, read back from the file.
                await FileHashing.AppendAsync(hash, file, offset, dropBehind: false, cancellationToken).ConfigureAwait(false);
            }

            file.Position = offset;
            var refused = false;
            while (offset < state.Size)
            {
                var length = (int)Math.Min(buffer.Length, state.Size - offset);
                await file.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                hash?.AppendData(buffer, 0, length);
                // SendFileFrameAsync has encoded the bytes into the connection's pipe when it returns: the buffer is free again.
                await connection.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, fileId, (ulong)offset, buffer.AsMemory(0, length)), cancellationToken)
                    .ConfigureAwait(false);
                offset += length;
                Progress?.Invoke(offset, state.Size);
                if (frames.Frames.TryPeek(out var early) && early is ErrorFrame)
                {
                    refused = true;
                    break; // refused mid-way (quota, size): stop sending and report it
                }
            }

            if (hash is not null && !refused)
            {
                await connection.SendFileFrameAsync(new UploadEndFrame(fileId, hash.GetHashAndReset()), cancellationToken).ConfigureAwait(false);
            }
        }

        return (UploadDoneFrame)await frames.ReadAsync(cancellationToken).ConfigureAwait(false);
    }
}
