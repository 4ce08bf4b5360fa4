using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Parley.IO;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Files;

/// <summary>
/// A long transfer through <see cref="PageCacheWindow"/> leaves one or two windows of its file in the page cache, and
/// loses nothing. On real files in the temp folder; the page cache is read with mincore(2).
/// </summary>
public sealed partial class PageCacheWindowTests : IDisposable
{
    private const int Chunk = 256 << 10;
    private const long Size = 12 * PageCacheWindow.Window;
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Write_PastManyWindows_CacheHoldsAboutOneWindowAndEveryByteIsThere()
    {
        var windowed = _dir.Combine("windowed.bin");
        var plain = _dir.Combine("plain.bin");
        var expected = await WriteAsync(windowed, useWindow: true);
        await WriteAsync(plain, useWindow: false);

        // The control: on this file system an ordinary write stays cached, so the measurement can see a difference.
        Assert.True(CachedBytes(plain) >= Size * 9 / 10, $"plain write cached {CachedBytes(plain)} of {Size}");
        Assert.True(CachedBytes(windowed) <= 2 * PageCacheWindow.Window, $"windowed write cached {CachedBytes(windowed)} of {Size}");
        Assert.Equal(expected, await HashFileAsync(windowed));
    }

    [Fact]
    public async Task Read_CachedFileFromAnOffset_DropsWhatLiesBehindAndReadsEveryByte()
    {
        var path = _dir.Combine("stored.bin");
        var expected = await WriteAsync(path, useWindow: false);
        Assert.True(CachedBytes(path) >= Size * 9 / 10, $"written file cached {CachedBytes(path)} of {Size}");

        // A resumed download starts in the middle: nothing before its offset is dropped, nothing after it is missed.
        var offset = 3 * PageCacheWindow.Window + 12345;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true))
        {
            var head = new byte[offset];
            await file.ReadExactlyAsync(head);
            hash.AppendData(head);
            var cache = new PageCacheWindow(file.SafeFileHandle, offset);
            var buffer = new byte[64 << 10];
            int read;
            while ((read = await file.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                cache.Read(file.Position);
            }
        }

        Assert.Equal(expected, hash.GetHashAndReset());
        var cached = CachedBytes(path);
        Assert.True(cached >= offset - PageCacheWindow.Window, $"the part before the offset was dropped too: {cached} cached");
        Assert.True(cached <= offset + 3 * PageCacheWindow.Window, $"read cached {cached} of {Size}");
    }

    public void Dispose() => _dir.Dispose();

    private static async Task<byte[]> WriteAsync(string path, bool useWindow)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[Chunk];
        var random = new Random(7);
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, useAsync: true))
        {
            var cache = useWindow ? new PageCacheWindow(file.SafeFileHandle, 0) : null;
            for (long written = 0; written < Size; written += Chunk)
            {
                random.NextBytes(chunk);
                await file.WriteAsync(chunk);
                hash.AppendData(chunk);
                cache?.Wrote(written + Chunk);
            }

            file.Flush(flushToDisk: true);
        }

        return hash.GetHashAndReset();
    }

    private static async Task<byte[]> HashFileAsync(string path)
    {
        await using var file = File.OpenRead(path);
        return await SHA256.HashDataAsync(file);
    }

    /// <summary>Bytes of the file in the page cache: mapping a file does not read it, and mincore says which pages are resident.</summary>
    private static long CachedBytes(string path)
    {
        var length = new FileInfo(path).Length;
        using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        var page = Environment.SystemPageSize;
        var resident = new byte[(length + page - 1) / page];
        var address = view.SafeMemoryMappedViewHandle.DangerousGetHandle() + (nint)view.PointerOffset;
        Assert.Equal(0, mincore(address, (nuint)length, resident));
        return resident.Count(flag => (flag & 1) != 0) * (long)page;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mincore(nint address, nuint length, [Out] byte[] residency);
}
