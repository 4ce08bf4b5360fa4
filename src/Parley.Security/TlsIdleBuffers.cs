using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Parley.Security;

/// <summary>
/// Lets OpenSSL free a TLS connection's record buffers whenever they are empty (<c>SSL_MODE_RELEASE_BUFFERS</c>), so an
/// idle connection holds no read or write buffer in OpenSSL. Without it every TLS session keeps a read buffer and a
/// write buffer (up to about 17 KiB each) for its whole life; with it, W3 measured about 14 KiB less server memory per
/// idle logged-in connection (docs/performance.md, "What changed in session 7"). <see cref="SslStream"/> reads with
/// zero-byte reads and returns its own managed buffer while idle; this is the native half of the same idea.
/// <para>
/// .NET does not expose the mode, so this takes the stream's OpenSSL handle from a private field and calls
/// <c>SSL_ctrl(ssl, SSL_CTRL_MODE, SSL_MODE_RELEASE_BUFFERS, NULL)</c> in the libssl that .NET already loaded. Anything
/// unexpected (another platform, another runtime's field layout, no libssl or two of them loaded) makes
/// <see cref="TryEnable"/> return false and change nothing: the connection then simply keeps its buffers.
/// </para>
/// <para>
/// Safe with a read loop and a write loop on one stream: on Linux <see cref="SslStream"/> takes one lock around every
/// handshake, encrypt and decrypt call into OpenSSL (an <c>SSL</c> object may not be read and written at once), so
/// the buffers OpenSSL frees and takes again are never touched by two threads at the same time.
/// </para>
/// </summary>
public static class TlsIdleBuffers
{
    private const int SslCtrlMode = 33; // SSL_CTRL_MODE in ssl.h, the same in OpenSSL 1.1 and 3
    private const long SslModeReleaseBuffers = 0x10; // SSL_MODE_RELEASE_BUFFERS
    private const int RtldLazy = 0x1;
    private const int RtldNoLoad = 0x4;

    private static readonly FieldInfo? ContextField =
        typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);

    private static readonly Lazy<IntPtr> SslCtrl = new(FindSslCtrl);

    /// <summary>
    /// Sets <c>SSL_MODE_RELEASE_BUFFERS</c> on an authenticated stream. Call it after the handshake and before the
    /// stream is read or written by anyone else (the mode is a plain field of OpenSSL's connection object). True when
    /// OpenSSL reports the mode set.
    /// </summary>
    public static bool TryEnable(SslStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!OperatingSystem.IsLinux() || ContextField?.GetValue(stream) is not SafeHandle handle || handle.IsInvalid ||
            handle.IsClosed || SslCtrl.Value == IntPtr.Zero)
        {
            return false;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return (Control(SslCtrl.Value, handle.DangerousGetHandle()) & SslModeReleaseBuffers) != 0;
        }
        catch (ObjectDisposedException)
        {
            return false; // closed in the meantime
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static unsafe long Control(IntPtr sslCtrl, IntPtr ssl) =>
        ((delegate* unmanaged<IntPtr, int, long, IntPtr, long>)sslCtrl)(ssl, SslCtrlMode, SslModeReleaseBuffers, IntPtr.Zero);

    /// <summary>
    /// SSL_ctrl of the libssl already in the process (RTLD_NOLOAD: never load one of our own, which could be another
    /// version than the one that made the handle). Zero when none, or more than one, is loaded.
    /// </summary>
    private static IntPtr FindSslCtrl()
    {
        if (!OperatingSystem.IsLinux())
        {
            return IntPtr.Zero;
        }

        IntPtr found = IntPtr.Zero;
        foreach (var name in new[] { "libssl.so.3", "libssl.so.1.1", "libssl.so" })
        {
            IntPtr library;
            try
            {
                library = DlOpen(name, RtldLazy | RtldNoLoad);
            }
            catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
            {
                return IntPtr.Zero;
            }

            if (library == IntPtr.Zero || !NativeLibrary.TryGetExport(library, "SSL_ctrl", out var export))
            {
                continue;
            }

            if (found != IntPtr.Zero && found != export)
            {
                return IntPtr.Zero; // two different libssl builds loaded: which one made the handle is unknown
            }

            found = export;
        }

        return found;
    }

    [DllImport("libc", EntryPoint = "dlopen", CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern IntPtr DlOpen(string fileName, int flags);
}
