using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.IO;

namespace Parley.FileBench;

/// <summary>
/// The receiving process of the ceilings: reads one connection to its end and prints the byte count. Plain, it only
/// counts (the plain TCP copy). With <c>tls</c> it is a TLS server with a fresh ECDSA P-256 key (as Parley's), and with
/// a file path it also does what a receiver of a file must: SHA-256 over every byte, written to that file, fsync at
/// the end (the floor under Parley's upload: its transport, its hash and its disk, without its protocol). It writes as
/// Parley's server does, through a <see cref="PageCacheWindow"/>, unless <c>throughCache</c> asks for plain writes.
/// </summary>
internal static class Sink
{
    public static async Task<int> RunAsync(int port, bool tls, string? storePath, bool throughCache)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        using var certificate = tls ? SelfSigned() : null;
        Console.WriteLine("ready");
        using var client = await listener.AcceptTcpClientAsync();
        Stream stream = client.GetStream();
        if (certificate is not null)
        {
            var secure = new SslStream(stream, leaveInnerStreamOpen: false);
            await secure.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
            stream = secure;
        }

        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = storePath is null ? null : new FileStream(storePath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0, useAsync: true);
        var cache = file is null || throughCache ? null : new PageCacheWindow(file.SafeFileHandle, 0);
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
            if (file is not null)
            {
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read));
                cache?.Wrote(total);
            }
        }

        file?.Flush(flushToDisk: true);
        await stream.DisposeAsync();
        Console.WriteLine(total.ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // SslStream on Linux needs a key it can hand to OpenSSL: a round trip through PKCS#12 gives one.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }
}
