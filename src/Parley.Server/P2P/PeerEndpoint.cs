using System.Globalization;
using System.Net;

namespace Parley.Server.P2P;

/// <summary>Checks and completes the endpoint a device registers in the directory.</summary>
internal static class PeerEndpoint
{
    /// <summary>
    /// Empty stays empty (the device dials out only). Otherwise it must be IP:PORT or [IPv6]:PORT or NAME:PORT with a
    /// port in 1..65535; an unspecified address (0.0.0.0, ::) becomes <paramref name="observedAddress"/>, the address
    /// the registering connection comes from.
    /// </summary>
    public static bool TryNormalize(string endpoint, string observedAddress, out string normalized)
    {
        normalized = string.Empty;
        if (endpoint.Length == 0)
        {
            return true;
        }

        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return false;
        }

        var host = endpoint[..colon].Trim('[', ']');
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return false;
        }

        if (IPAddress.TryParse(host, out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            host = observedAddress;
        }

        normalized = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";
        return true;
    }
}
