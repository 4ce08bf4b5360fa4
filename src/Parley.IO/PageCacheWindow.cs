using Microsoft.Win32.SafeHandles;

namespace Parley.IO;

/// <summary>
/// Keeps one long sequential pass over a file (an upload or a download being written, a stored file being sent) from
/// filling the page cache with bytes nobody reads again soon. Writing, every <see cref="Window"/> bytes it asks the
/// kernel to start writing back the window just written, waits for the window before it (long written by then) and
/// drops that one from the cache; reading, it drops what lies a window behind. A transfer so holds about two windows
/// of the cache instead of the whole file, and its final fsync finds almost nothing left to write.
/// </summary>
/// <remarks>
/// Why: a 1 GiB upload left 1 GiB of dirty pages that the final fsync then waited for, pushed out whatever else was
/// cached (the store's working set among it), and on a virtual machine every fresh page cost a fault in the host:
/// writing 1 GiB through the page cache took 2.8–4.0 s there, against 0.65–0.8 s with the window (docs/performance.md,
/// session 14). PostgreSQL bounds its writeback the same way (<c>sync_file_range</c>, <c>*_flush_after</c>).
/// Only on Linux; elsewhere, and on a file system that refuses the calls, it does nothing. Advice only: it never
/// drops a page before it is written (<c>POSIX_FADV_DONTNEED</c> leaves dirty pages alone, and the window is waited
/// for first), and durability still comes from the caller's fsync.
/// Files shorter than a window are never touched. Not thread-safe: one per pass, called by whoever writes or reads.
/// </remarks>
public sealed class PageCacheWindow
{
    /// <summary>Bytes between two calls into the kernel: large enough that the calls cost nothing next to the copying.</summary>
    public const long Window = 8L << 20;

    private readonly SafeFileHandle _file;
    private bool _enabled;
    // Writing: [_dropped, _started) has been handed to writeback and is still cached; [_started, position) has not.
    // Reading: [_dropped, position) is still cached.
    private long _dropped;
    private long _started;

    /// <param name="file">The open file; it must stay open while this is used.</param>
    /// <param name="position">Where the pass starts (a resumed transfer starts past what is already on disk).</param>
    public PageCacheWindow(SafeFileHandle file, long position)
    {
        ArgumentNullException.ThrowIfNull(file);
        _file = file;
        _enabled = OperatingSystem.IsLinux();
        _dropped = position;
        _started = position;
    }

    /// <summary>Call after each write, with the file position after it.</summary>
    public void Wrote(long position)
    {
        if (!_enabled || position - _started < Window)
        {
            return;
        }

        // Start writing back what was just written, without waiting for it.
        _enabled = LinuxFileCalls.SyncFileRange(_file, _started, position - _started, LinuxFileCalls.SyncFileRangeWrite);
        if (_enabled && _started > _dropped)
        {
            // The window before it was handed to writeback a window ago: wait for it (normally done) and drop it.
            _enabled = LinuxFileCalls.SyncFileRange(_file, _dropped, _started - _dropped,
                           LinuxFileCalls.SyncFileRangeWaitBefore | LinuxFileCalls.SyncFileRangeWrite | LinuxFileCalls.SyncFileRangeWaitAfter) &&
                       LinuxFileCalls.DropFromCache(_file, _dropped, _started - _dropped);
            _dropped = _started;
        }

        _started = position;
    }

    /// <summary>Call after each read, with the file position after it.</summary>
    public void Read(long position)
    {
        if (!_enabled || position - _dropped < 2 * Window)
        {
            return;
        }

        // Keep the last window: the kernel's readahead works from it.
        var end = position - Window;
        _enabled = LinuxFileCalls.DropFromCache(_file, _dropped, end - _dropped);
        _dropped = end;
    }
}
