using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Parley.IO;

/// <summary>The two Linux calls <see cref="PageCacheWindow"/> needs; .NET has no API for either.</summary>
internal static partial class LinuxFileCalls
{
    public const uint SyncFileRangeWaitBefore = 1;
    public const uint SyncFileRangeWrite = 2;
    public const uint SyncFileRangeWaitAfter = 4;
    private const int PosixFadviseDontNeed = 4;

    /// <summary>False when the file system or kernel refuses the call (then the caller stops asking).</summary>
    public static bool SyncFileRange(SafeFileHandle file, long offset, long length, uint flags) =>
        sync_file_range(file, offset, length, flags) == 0;

    /// <summary>False when refused. posix_fadvise returns its error rather than setting errno.</summary>
    public static bool DropFromCache(SafeFileHandle file, long offset, long length) =>
        posix_fadvise(file, offset, length, PosixFadviseDontNeed) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sync_file_range(SafeFileHandle fd, long offset, long nbytes, uint flags);

    [LibraryImport("libc")]
    private static partial int posix_fadvise(SafeFileHandle fd, long offset, long len, int advice);
}
