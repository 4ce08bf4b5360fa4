using System.Globalization;

namespace Parley.Client;

/// <summary>A server's HOST:PORT, as typed by a user and as keyed in known_servers.</summary>
public readonly record struct ServerAddress(string Host, int Port)
{
    public const int DefaultPort = 7878;

    /// <summary>Parses HOST, HOST:PORT or [IPv6]:PORT.</summary>
    public static ServerAddress Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new FormatException("empty server address");
        }

        text = text.Trim();
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"bad server address {text}");
            }

            var host = text[1..close];
            var rest = text[(close + 1)..];
            return new ServerAddress(host, rest.StartsWith(':') ? ParsePort(rest[1..]) : DefaultPort);
        }

        var colon = text.LastIndexOf(':');
        return colon < 0 ? new ServerAddress(text, DefaultPort) : new ServerAddress(text[..colon], ParsePort(text[(colon + 1)..]));
    }

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    private static int ParsePort(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new FormatException($"bad port {text}");
}
