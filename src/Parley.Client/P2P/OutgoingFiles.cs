using Parley.Client.Files;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Client.P2P;

/// <summary>
/// The sending end of a direct file transfer. The file id and SHA-256 are kept per (file, recipient) in
/// HOME/uploads-p2p by <see cref="UploadStateFiles"/>, as the server path keeps them in HOME/uploads, so running the command again after a broken link
/// offers the same id and the peer answers with the offset its partial file has.
/// </summary>
internal static class OutgoingFiles
{
    /// <summary>
    /// Runs the exchange on <paramref name="link"/>. Null when the peer confirmed the whole file (UPLOAD_DONE after its
    /// hash check); the peer's reason when it refused. Throws <see cref="IOException"/> when the link breaks and
    /// <see cref="TimeoutException"/> when the peer does not answer in time.
    /// </summary>
    public static async Task<string?> SendAsync(PeerLink link, UploadResumeState state, int chunkBytes, TimeSpan answerTimeout, CancellationToken cancellationToken)
    {
        var fileId = MessageId.Parse(state.FileId);
        var (replies, stop) = link.OpenFileReplies(fileId);
        using (stop)
        {
            await link.WriteFileFrameAsync(new UploadStartFrame(fileId, link.User, state.Name, (ulong)state.Size, Convert.FromHexString(state.Sha256)), cancellationToken)
                .ConfigureAwait(false);
            var answer = await NextAsync(replies, answerTimeout, cancellationToken).ConfigureAwait(false);
            switch (answer)
            {
                case UploadDoneFrame:
                    return null;
                case ErrorFrame error:
                    return error.Message;
            }

            var offset = (long)((FileOffsetFrame)answer).Offset;
            var file = new FileStream(state.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                if (file.Length != state.Size || File.GetLastWriteTimeUtc(state.Path).Ticks != state.LastWriteTicks)
                {
                    throw new InvalidOperationException($"{state.Path} changed while it was being sent; send it again");
                }

                file.Position = offset;
                var buffer = new byte[chunkBytes];
                while (offset < state.Size)
                {
                    var length = (int)Math.Min(buffer.Length, state.Size - offset);
                    await file.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    // Encoded into a new array before the write returns: the buffer is free again.
                    await link.WriteFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, fileId, (ulong)offset, buffer.AsMemory(0, length)), cancellationToken)
                        .ConfigureAwait(false);
                    offset += length;
                    if (replies.TryPeek(out var early) && early is ErrorFrame)
                    {
                        break;
                    }
                }
            }

            return await NextAsync(replies, answerTimeout, cancellationToken).ConfigureAwait(false) switch
            {
                UploadDoneFrame => null,
                ErrorFrame error => error.Message,
                var other => $"unexpected {other.Type}",
            };
        }
    }

    private static async Task<Frame> NextAsync(System.Threading.Channels.ChannelReader<Frame> replies, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await replies.ReadAsync(cancellationToken).AsTask().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Threading.Channels.ChannelClosedException closed)
        {
            throw closed.InnerException as IOException ?? new IOException("the link closed", closed);
        }
    }
}
