using System.Runtime.InteropServices;

namespace Parley.Terminal;

/// <summary>
/// The few libc calls the full-screen mode needs: raw mode (termios) and the window size. Called directly rather
/// than through System.Console, whose own terminal handling (echo, ReadKey's mode switching, restoring settings around
/// child processes) would fight with ours.
/// </summary>
internal static partial class TerminalNative
{
    private const int TcsaNow = 0;
    private const ulong TiocGwinsz = 0x5413;

    /// <summary>struct termios is 60 bytes on Linux (glibc); a larger buffer is harmless.</summary>
    public static byte[]? GetMode()
    {
        var buffer = new byte[128];
        return tcgetattr(0, buffer) == 0 ? buffer : null;
    }

    public static void SetMode(byte[] mode) => _ = tcsetattr(0, TcsaNow, mode);

    public static void EnterRaw(byte[] saved)
    {
        var raw = (byte[])saved.Clone();
        cfmakeraw(raw);
        _ = tcsetattr(0, TcsaNow, raw);
    }

    public static (int Width, int Height) Size()
    {
        var size = new WinSize();
        return ioctl(1, TiocGwinsz, ref size) == 0 && size.Columns > 0 ? (size.Columns, size.Rows) : (80, 24);
    }

    public static bool IsTerminal(int fd) => isatty(fd) == 1;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int tcgetattr(int fd, [Out] byte[] termios);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int tcsetattr(int fd, int actions, byte[] termios);

    [LibraryImport("libc")]
    private static partial void cfmakeraw([In, Out] byte[] termios);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, ulong request, ref WinSize size);

    [LibraryImport("libc")]
    private static partial int isatty(int fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }
}
