using System.Buffers;
using System.Security.Cryptography;

namespace Parley.IO;

/// <summary>
/// Adds a stretch of a file to a running hash: a resumed transfer re-hashes the part already on disk (no hash state
/// has to survive a crash), and an upload hashes its file before sending (servers before protocol version 2) or the
/// part the server already has (a resumed hash-last upload). One loop for all of them.
/// </summary>
public static class FileHashing
{
    private const int BufferBytes = 1 << 20;

    /// <summary>
    /// Reads <paramref name="file"/> from its position up to <paramref name="end"/> into <paramref name="hash"/>.
    /// With <paramref name="dropBehind"/> the bytes read leave the page cache as the pass goes (<see cref="PageCacheWindow"/>),
    /// for a pass nobody repeats soon; without it they stay, for a caller that reads them again next.
    /// </summary>
    /// <exception cref="EndOfStreamException">The file ends before <paramref name="end"/>.</exception>
    public static async Task AppendAsync(IncrementalHash hash, FileStream file, long end, bool dropBehind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hash);
        ArgumentNullException.ThrowIfNull(file);
        var cache = dropBehind ? new PageCacheWindow(file.SafeFileHandle, file.Position) : null;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            while (file.Position < end)
            {
                var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(BufferBytes, end - file.Position)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException($"{file.Name} ended at {file.Position} of {end} bytes");
                }

                hash.AppendData(buffer, 0, read);
                cache?.Read(file.Position);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
