using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Parley.Security.Tests;

/// <summary>A TLS server for one connection on a loopback listener: handshake, echo one byte, close.</summary>
internal static class OneShotTlsServer
{
    public static async Task ServeOnceAsync(TcpListener listener, SslStreamCertificateContext context, CancellationToken cancellationToken)
    {
        using var tcp = await listener.AcceptTcpClientAsync(cancellationToken);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions { ServerCertificateContext = context, AllowRenegotiation = false, ClientCertificateRequired = false },
                cancellationToken);
            var buffer = new byte[1];
            if (await tls.ReadAsync(buffer, cancellationToken) == 1)
            {
                await tls.WriteAsync(buffer, cancellationToken);
            }
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            // The client refused us (TLS alert) or hung up: expected in the refusal tests.
        }
    }
}
