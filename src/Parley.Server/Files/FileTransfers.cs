using System.Buffers;
using System.Collections.Concurrent;
using Parley.IO;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Connections;
using Parley.Server.Sessions;
using Parley.Storage;

namespace Parley.Server.Files;

/// <summary>
/// The file-transfer frames of one connection (docs/protocol.md, "File transfer"). Uploads are written in the read
/// loop, so a client that sends faster than the disk takes is slowed by TCP itself; downloads run in their own task
/// and queue at most <see cref="ServerOptions.MaxQueuedFileChunksPerConnection"/> chunks for the write loop, so memory
/// does not depend on the file's size.
/// </summary>
internal sealed class FileTransfers : IDisposable
{
    private readonly ClientConnection _connection;
    private readonly ConnectionServices _services;
    private readonly BlobStore _blobs;
    private readonly ConcurrentDictionary<MessageId, UploadState> _uploads = new();
    // Complete files whose UPLOAD_START left the hash to UPLOAD_END (a retry after a lost UPLOAD_DONE): the UPLOAD_END
    // must match the stored hash before the offer is announced again.
    private readonly ConcurrentDictionary<MessageId, BlobRecord> _awaitingEnd = new();
    private readonly SemaphoreSlim _chunkWindow;

    public FileTransfers(ClientConnection connection, ConnectionServices services, BlobStore blobs)
    {
        _connection = connection;
        _services = services;
        _blobs = blobs;
        _chunkWindow = new SemaphoreSlim(services.Options.MaxQueuedFileChunksPerConnection);
    }

    private ServerOptions Options => _services.Options;

    /// <summary>The write loop wrote one FILE_CHUNK: the download may queue another.</summary>
    public void ChunkWritten() => _chunkWindow.Release();

    public async ValueTask StartUploadAsync(Session session, UploadStartFrame start, CancellationToken cancellationToken)
    {
        try
        {
            await StartUploadCoreAsync(session, start, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsStorageFailure(exception))
        {
            StorageFailed(start.FileId, "upload start", exception);
        }
    }

    public async ValueTask StartDownloadAsync(Session session, FileOffsetFrame request, CancellationToken cancellationToken)
    {
        try
        {
            await StartDownloadCoreAsync(session, request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsStorageFailure(exception))
        {
            StorageFailed(request.FileId, "download start", exception);
        }
    }

    /// <summary>
    /// A failure of the blob storage (NATS unreachable in cluster mode, a full disk) or of this node's .part file:
    /// it concerns one file, so that file is answered with an error and the connection stays up. Protocol violations
    /// and a closing connection are not this.
    /// </summary>
    private static bool IsStorageFailure(Exception exception) =>
        exception is not (ProtocolException or OperationCanceledException or OutOfMemoryException);

    private void StorageFailed(MessageId id, string operation, Exception exception)
    {
        Log.FileStorageFailed(_services.Logger, id, operation, exception);
        _connection.Send(new ErrorFrame(ErrorCode.InternalError, id, $"the server could not reach its file storage ({operation}); try again"));
    }

    private async ValueTask StartUploadCoreAsync(Session session, UploadStartFrame start, CancellationToken cancellationToken)
    {
        if (!Names.TryNormalizeRecipient(start.To, out var to))
        {
            _connection.Send(new ErrorFrame(ErrorCode.BadId, start.FileId, "bad recipient name"));
            return;
        }

        // Version 2: an all-zero hash means "in UPLOAD_END". In version 1 it is a hash like any other.
        var hashFollows = start.HashFollows && _connection.Version >= ProtocolVersion.V2;
        var declared = hashFollows ? null : Convert.ToHexStringLower(start.Sha256);
        await _blobs.SweepAsync(cancellationToken).ConfigureAwait(false);
        var record = await _blobs.FindAsync(start.FileId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            if (await _services.Store.GetPasswordHashAsync(to, cancellationToken).ConfigureAwait(false) is null)
            {
                _connection.Send(new ErrorFrame(ErrorCode.UnknownUser, start.FileId, $"there is no user {to}"));
                return;
            }

            var (created, error, message) = await _blobs.CreateAsync(start.FileId, session.User, to, start.Name, start.Size,
                    hashFollows ? [] : start.Sha256, cancellationToken)
                .ConfigureAwait(false);
            if (created is null)
            {
                _connection.Send(new ErrorFrame(error, start.FileId, message));
                return;
            }

            record = created;
        }

        // A record's hash is empty until an upload that declared it last has completed.
        if (record.Sender != session.User || record.Recipient != to || record.Size != (long)start.Size ||
            (declared is not null && record.Sha256.Length != 0 && record.Sha256 != declared))
        {
            // Another user's id, or the same id for different content (IdReused for a message): refused alike.
            _connection.Send(new ErrorFrame(ErrorCode.UnknownFile, start.FileId, "this file id belongs to another upload; pick a new id"));
            return;
        }

        if (record.Complete)
        {
            if (hashFollows)
            {
                // Nothing left to send: the client's UPLOAD_END says whether its file is the one stored.
                _awaitingEnd[start.FileId] = record;
                _connection.Send(new FileOffsetFrame(FrameType.UploadReady, start.FileId, (ulong)record.Size));
                return;
            }

            // The blob is stored; the offer may not be (crash between rename and append). Appending is idempotent.
            await AnnounceAsync(record, cancellationToken).ConfigureAwait(false);
            return;
        }

        var state = await _blobs.OpenUploadAsync(record, cancellationToken).ConfigureAwait(false);
        state.DeclaredSha256 = declared;
        _uploads[start.FileId] = state;
        if (state.Offset == record.Size && declared is not null)
        {
            await FinishAsync(state, declared, cancellationToken).ConfigureAwait(false);
            return;
        }

        _connection.Send(new FileOffsetFrame(FrameType.UploadReady, start.FileId, (ulong)state.Offset));
    }

    public async ValueTask WriteChunkAsync(FileChunkFrame chunk, CancellationToken cancellationToken)
    {
        if (!_uploads.TryGetValue(chunk.FileId, out var state))
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"UPLOAD_CHUNK for file {chunk.FileId}, which this connection has not started");
        }

        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (RefusedAsTakenOver(state, chunk.FileId))
            {
                return;
            }

            if (chunk.Offset != (ulong)state.Offset)
            {
                throw new ProtocolException(ErrorCode.ProtocolError, $"chunk at offset {chunk.Offset}; the next byte expected is {state.Offset}");
            }

            if ((ulong)state.Offset + (ulong)chunk.Data.Length > (ulong)state.Record.Size)
            {
                // security.md 29: never store a byte past the declared size. The partial file goes; the sender lied.
                _uploads.TryRemove(chunk.FileId, out _);
                await _blobs.DeleteAsync(state.Record, cancellationToken).ConfigureAwait(false);
                _connection.Send(new ErrorFrame(ErrorCode.FileTooLarge, chunk.FileId, $"more bytes than the declared {state.Record.Size}; upload deleted"));
                _connection.Abort(ErrorCode.None, "upload ran past its declared size");
                return;
            }

            await state.AppendAsync(chunk.Data, cancellationToken).ConfigureAwait(false);
            chunk.ReturnBuffer();
        }
        finally
        {
            state.Gate.Release();
        }

        if (state.Offset == state.Record.Size && state.DeclaredSha256 is { } declared)
        {
            await FinishAsync(state, declared, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>UPLOAD_END (protocol version 2): the hash an UPLOAD_START left out, after the last chunk.</summary>
    public async ValueTask EndUploadAsync(UploadEndFrame end, CancellationToken cancellationToken)
    {
        if (_connection.Version < ProtocolVersion.V2)
        {
            throw new ProtocolException(ErrorCode.ProtocolError, "UPLOAD_END needs protocol version 2");
        }

        var declared = Convert.ToHexStringLower(end.Sha256);
        try
        {
            if (_awaitingEnd.TryRemove(end.FileId, out var complete))
            {
                if (complete.Sha256 != declared)
                {
                    _connection.Send(new ErrorFrame(ErrorCode.UnknownFile, end.FileId, "this file id belongs to another upload; pick a new id"));
                    return;
                }

                await AnnounceAsync(complete, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (!_uploads.TryGetValue(end.FileId, out var state) || state.DeclaredSha256 is not null)
            {
                throw new ProtocolException(ErrorCode.ProtocolError, $"UPLOAD_END for file {end.FileId}, whose upload on this connection did not leave its hash to the end");
            }

            await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (RefusedAsTakenOver(state, end.FileId))
                {
                    return;
                }

                if (state.Offset != state.Record.Size)
                {
                    throw new ProtocolException(ErrorCode.ProtocolError, $"UPLOAD_END after {state.Offset} of {state.Record.Size} bytes");
                }
            }
            finally
            {
                state.Gate.Release();
            }

            await FinishAsync(state, declared, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsStorageFailure(exception))
        {
            StorageFailed(end.FileId, "upload end", exception);
        }
    }

    private async ValueTask StartDownloadCoreAsync(Session session, FileOffsetFrame request, CancellationToken cancellationToken)
    {
        var record = await _blobs.FindAsync(request.FileId, cancellationToken).ConfigureAwait(false);
        if (record is not { Complete: true } || (record.Sender != session.User && record.Recipient != session.User))
        {
            // One answer for missing, expired and someone else's: file ids cannot be probed.
            _connection.Send(new ErrorFrame(ErrorCode.UnknownFile, request.FileId, "no such file (it may have expired)"));
            return;
        }

        if (request.Offset > (ulong)record.Size)
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"DOWNLOAD from offset {request.Offset} of a {record.Size}-byte file");
        }

        var blob = await _blobs.OpenReadAsync(record, (long)request.Offset, cancellationToken).ConfigureAwait(false);
        if (blob is null)
        {
            _connection.Send(new ErrorFrame(ErrorCode.UnknownFile, request.FileId, "no such file (it may have expired)"));
            return;
        }

        _connection.Send(new FileInfoFrame(request.FileId, record.Sender, record.Recipient, record.Name, (ulong)record.Size, Convert.FromHexString(record.Sha256)));
        var isRecipient = record.Recipient == session.User;
        _ = Task.Run(() => SendBlobAsync(blob, record, (long)request.Offset, isRecipient, cancellationToken), CancellationToken.None);
    }

    public void Dispose()
    {
        foreach (var state in _uploads.Values)
        {
            // The .part stays on disk: the client resumes from its length on any later connection.
            _blobs.Detach(state);
        }

        _uploads.Clear();
    }

    private async Task SendBlobAsync(Stream blob, BlobRecord record, long offset, bool isRecipient, CancellationToken cancellationToken)
    {
        var id = MessageId.Parse(record.Id);
        try
        {
            await using (blob.ConfigureAwait(false))
            {
                // A stored file is read once per download: keep a large one from pushing the store's pages out.
                var cache = blob is FileStream file ? new PageCacheWindow(file.SafeFileHandle, offset) : null;
                while (offset < record.Size)
                {
                    if (!_chunkWindow.Wait(0) && !await _chunkWindow.WaitAsync(Options.WriteTimeout, cancellationToken).ConfigureAwait(false))
                    {
                        _connection.Abort(ErrorCode.SlowConsumer, "you are not reading the download; reconnect to resume");
                        return;
                    }

                    // A pooled buffer per chunk: the frame owns it until the write loop has written it and returns it.
                    // (A new array per 64 KiB chunk grew the server's peak RSS from 91 to 170 MiB during a 1 GiB download.)
                    var length = (int)Math.Min(FileTransferLimits.MaxChunkBytes / 4, record.Size - offset);
                    var data = ArrayPool<byte>.Shared.Rent(length);
                    await blob.ReadExactlyAsync(data.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    _connection.Send(FileChunkFrame.WithPooledData(FrameType.FileChunk, id, (ulong)offset, data, length));
                    offset += length;
                    cache?.Read(offset);
                }
            }

            _connection.Send(new FileOffsetFrame(FrameType.FileEnd, id, (ulong)record.Size));
            if (isRecipient)
            {
                // Not the connection's token: a client that closes as soon as it has FILE_END (as `parley get`
                // does) would cancel the write, and its file would count against the sender's quota until retention.
                await _blobs.MarkFetchedAsync(record, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // the connection closed; the client resumes from what it has
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            _connection.Send(new ErrorFrame(ErrorCode.UnknownFile, id, "the file could not be read (it may have expired)"));
        }
        catch (Exception exception) when (IsStorageFailure(exception))
        {
            // Runs on its own task: nothing above would see it, and the client would wait for chunks for ever.
            StorageFailed(id, "download", exception);
        }
    }

    /// <summary>
    /// True, with UnknownFile sent, when a newer connection of the same client took the upload over (its UPLOAD_START
    /// disposed this connection's state): this one's chunks and UPLOAD_END are stale. Call it holding the upload's gate.
    /// </summary>
    private bool RefusedAsTakenOver(UploadState state, MessageId fileId)
    {
        if (!state.IsDisposed)
        {
            return false;
        }

        _uploads.TryRemove(fileId, out _);
        _connection.Send(new ErrorFrame(ErrorCode.UnknownFile, fileId, "this upload continues on another connection"));
        return true;
    }

    /// <summary>All bytes are in: checks them against <paramref name="declared"/>, stores the file and announces it.</summary>
    private async ValueTask FinishAsync(UploadState state, string declared, CancellationToken cancellationToken)
    {
        var record = state.Record;
        var id = MessageId.Parse(record.Id);
        _uploads.TryRemove(id, out _);
        var actual = Convert.ToHexStringLower(state.Finish());
        if (actual != declared || (record.Sha256.Length != 0 && actual != record.Sha256))
        {
            await _blobs.DeleteAsync(record, cancellationToken).ConfigureAwait(false);
            _connection.Send(new ErrorFrame(ErrorCode.HashMismatch, id, "the bytes received do not match the declared SHA-256; upload deleted, send it again"));
            return;
        }

        record.Sha256 = actual; // already so, unless the hash came last
        try
        {
            await _blobs.CompleteAsync(state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsStorageFailure(exception))
        {
            // The verified .part stays: the client's UPLOAD_START again resumes at its end and completes it then.
            StorageFailed(id, "upload completion", exception);
            return;
        }

        await AnnounceAsync(record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Appends the offer to both logs (deduplicated by the file id as message id) and answers UPLOAD_DONE.</summary>
    private async Task AnnounceAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        var id = MessageId.Parse(record.Id);
        var offer = new FileOffer(id, record.Name, (ulong)record.Size, Convert.FromHexString(record.Sha256));
        var result = await _services.Store.AppendAsync(new Submission(record.Sender, id, record.Recipient, offer.Describe(), File: offer), cancellationToken)
            .ConfigureAwait(false);
        switch (result.Status)
        {
            case AppendStatus.Stored or AppendStatus.Duplicate:
                _connection.Send(new UploadDoneFrame(id, result.SenderSequence, result.Time));
                break;
            case AppendStatus.QueueFull:
                _connection.Send(new ErrorFrame(ErrorCode.RecipientQueueFull, id, $"{record.Recipient} has too many unread messages; the file is kept, offer it again later"));
                break;
            default:
                _connection.Send(new ErrorFrame(ErrorCode.UnknownUser, id, $"the offer could not be stored ({result.Status})"));
                break;
        }
    }
}
