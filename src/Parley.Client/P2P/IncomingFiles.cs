using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Parley.Client.Files;
using Parley.IO;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Client.P2P;

/// <summary>
/// The receiving end of a direct file transfer: the same UPLOAD_START / UPLOAD_READY / UPLOAD_CHUNK / UPLOAD_DONE
/// exchange as with the server (docs/protocol.md, "Files"), with the same rules (security.md 28, 29): the declared
/// size is checked against <see cref="PeerOptions.MaxFileBytes"/> before any byte is written; bytes go to a partial
/// file under a generated name; a chunk must start where the partial file ends (resume after a broken link picks up
/// there); the SHA-256 is checked at the end, and only then is the file moved to the downloads folder under its
/// sanitised name, never over an existing file. A mismatch deletes the partial file.
/// </summary>
internal sealed class IncomingFiles(string partialFolder, string downloadsFolder, long maxFileBytes) : IDisposable
{
    private readonly Dictionary<(string From, MessageId Id), Transfer> _active = [];
    private readonly Lock _lock = new();

    /// <summary>UPLOAD_START from <paramref name="from"/>: UPLOAD_READY with the offset to go on from, or UPLOAD_DONE/ERROR.</summary>
    public async Task<(Frame Reply, PeerMessage? Finished)> StartAsync(string from, string me, UploadStartFrame start)
    {
        if (start.Size > (ulong)maxFileBytes)
        {
            return (new ErrorFrame(ErrorCode.FileTooLarge, start.FileId, $"files up to {maxFileBytes} bytes"), null);
        }

        Directory.CreateDirectory(partialFolder);
        lock (_lock)
        {
            // A new UPLOAD_START for the same file (a resume on a new link) takes over from the broken one.
            if (_active.Remove((from, start.FileId), out var previous))
            {
                previous.Dispose();
            }
        }

        var path = Path.Combine(partialFolder, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{from}\n{start.FileId}")))[..32] + ".part");
        var part = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, useAsync: true);
        if (part.Length > (long)start.Size)
        {
            part.SetLength(0); // not this file's bytes: start over
        }

        // The hash of what is already there is recomputed: no hash state has to survive a crash.
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await FileHashing.AppendAsync(hash, part, part.Length, dropBehind: true, CancellationToken.None).ConfigureAwait(false);

        var transfer = new Transfer(start, path, part, hash, new PageCacheWindow(part.SafeFileHandle, part.Length));
        lock (_lock)
        {
            _active[(from, start.FileId)] = transfer;
        }

        if (part.Length == (long)start.Size)
        {
            return await FinishAsync(from, me, transfer).ConfigureAwait(false);
        }

        return (new FileOffsetFrame(FrameType.UploadReady, start.FileId, (ulong)part.Length), null);
    }

    /// <summary>One UPLOAD_CHUNK: null reply while more is expected; UPLOAD_DONE (and the message to show) or ERROR at the end.</summary>
    public async Task<(Frame? Reply, PeerMessage? Finished)> ChunkAsync(string from, string me, FileChunkFrame chunk)
    {
        Transfer? transfer;
        lock (_lock)
        {
            _active.TryGetValue((from, chunk.FileId), out transfer);
        }

        if (transfer is null)
        {
            return (new ErrorFrame(ErrorCode.UnknownFile, chunk.FileId, "no UPLOAD_START for this file on this link"), null);
        }

        if (chunk.Offset != (ulong)transfer.Part.Length)
        {
            Drop(from, transfer, deletePart: false);
            return (new ErrorFrame(ErrorCode.ProtocolError, chunk.FileId, $"chunk at {chunk.Offset}, expected {transfer.Part.Length}"), null);
        }

        if (chunk.Offset + (ulong)chunk.Data.Length > transfer.Start.Size)
        {
            Drop(from, transfer, deletePart: true);
            return (new ErrorFrame(ErrorCode.FileTooLarge, chunk.FileId, $"more bytes than the declared {transfer.Start.Size}"), null);
        }

        await transfer.Part.WriteAsync(chunk.Data).ConfigureAwait(false);
        transfer.Hash.AppendData(chunk.Data.Span);
        transfer.Cache.Wrote(transfer.Part.Length);
        chunk.ReturnBuffer();
        return transfer.Part.Length == (long)transfer.Start.Size ? await FinishAsync(from, me, transfer).ConfigureAwait(false) : (null, null);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var transfer in _active.Values)
            {
                transfer.Dispose();
            }

            _active.Clear();
        }
    }

    private async Task<(Frame Reply, PeerMessage? Finished)> FinishAsync(string from, string me, Transfer transfer)
    {
        var id = transfer.Start.FileId;
        if (!transfer.Hash.GetHashAndReset().AsSpan().SequenceEqual(transfer.Start.Sha256))
        {
            Drop(from, transfer, deletePart: true);
            return (new ErrorFrame(ErrorCode.HashMismatch, id, "the bytes do not hash to the declared SHA-256; the partial file was deleted"), null);
        }

        transfer.Part.Flush(flushToDisk: true);
        Drop(from, transfer, deletePart: false);
        var saved = FileNameSanitizer.CreateUnique(downloadsFolder, transfer.Start.Name);
        File.Move(transfer.PartPath, saved, overwrite: true); // over the empty placeholder CreateUnique reserved
        await Task.CompletedTask.ConfigureAwait(false);
        var time = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var text = string.Create(CultureInfo.InvariantCulture,
            $"sent file \"{FileNameSanitizer.Sanitize(transfer.Start.Name)}\" ({transfer.Start.Size} bytes), saved as {saved}");
        return (new UploadDoneFrame(id, 0, time), new PeerMessage(id, from, me, time, text, DeliveryPath.Direct, 0));
    }

    private void Drop(string from, Transfer transfer, bool deletePart)
    {
        lock (_lock)
        {
            _active.Remove((from, transfer.Start.FileId));
        }

        transfer.Dispose();
        if (deletePart)
        {
            File.Delete(transfer.PartPath);
        }
    }

    private sealed record Transfer(UploadStartFrame Start, string PartPath, FileStream Part, IncrementalHash Hash, PageCacheWindow Cache) : IDisposable
    {
        public void Dispose()
        {
            Part.Dispose();
            Hash.Dispose();
        }
    }
}
