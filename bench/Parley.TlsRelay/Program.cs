using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Parley.TlsRelay;

// Usage: Parley.TlsRelay --port N --cert cert.pem --key key.pem [--plain]
// Prints "listening PORT" when it accepts connections; runs until killed.
var settings = args.Chunk(2).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0].TrimStart('-'), pair => pair[1]);
var plain = args.Contains("--plain");
var port = int.Parse(settings.GetValueOrDefault("port", "0"), CultureInfo.InvariantCulture);
SslStreamCertificateContext? certificate = null;
if (!plain)
{
    // As Parley's server does (ParleyServer): one context for every handshake.
    certificate = SslStreamCertificateContext.Create(X509Certificate2.CreateFromPemFile(settings["cert"], settings["key"]), additionalCertificates: null);
}

var topics = new ConcurrentDictionary<string, RelayConnection>(StringComparer.Ordinal);
using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
listener.Listen(4096);
Console.WriteLine($"listening {((IPEndPoint)listener.LocalEndPoint!).Port}");
while (true)
{
    var socket = await listener.AcceptAsync();
    socket.NoDelay = true;
    _ = Task.Run(() => new RelayConnection(socket, certificate, topics).RunAsync());
}
