using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Parley.FileBench;

/// <summary>The receiving process of the TCP ceiling: reads one connection to its end and prints the byte count.</summary>
internal static class Sink
{
    public static async Task<int> RunAsync(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        Console.WriteLine("ready");
        using var client = await listener.AcceptTcpClientAsync();
        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        var stream = client.GetStream();
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        Console.WriteLine(total.ToString(CultureInfo.InvariantCulture));
        return 0;
    }
}
