namespace Parley.Server.Connections;

/// <summary>
/// Caps on open connections (security.md 9 and 12): overall, per address, and per address among those not yet
/// logged in. Checked at accept, before TLS, so a flood from one address costs no handshakes; a refused
/// connection is closed at once.
/// </summary>
internal sealed class ConnectionLimiter(ServerOptions options)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (int Open, int Unauthenticated)> _byAddress = new(StringComparer.Ordinal);
    private int _open;

    /// <summary>Counts a new connection, or returns why it must be refused.</summary>
    public string? TryOpen(string address)
    {
        lock (_lock)
        {
            _byAddress.TryGetValue(address, out var counts);
            if (_open >= options.MaxConnections)
            {
                return $"the server holds its maximum of {options.MaxConnections} connections";
            }

            if (counts.Open >= options.MaxConnectionsPerAddress)
            {
                return $"{address} holds its maximum of {options.MaxConnectionsPerAddress} connections";
            }

            if (counts.Unauthenticated >= options.MaxUnauthenticatedPerAddress)
            {
                return $"{address} has {options.MaxUnauthenticatedPerAddress} connections that have not logged in";
            }

            _open++;
            _byAddress[address] = (counts.Open + 1, counts.Unauthenticated + 1);
            return null;
        }
    }

    /// <summary>The connection logged in: it no longer counts against the pre-login cap.</summary>
    public void Authenticated(string address)
    {
        lock (_lock)
        {
            if (_byAddress.TryGetValue(address, out var counts))
            {
                _byAddress[address] = (counts.Open, counts.Unauthenticated - 1);
            }
        }
    }

    public void Closed(string address, bool wasAuthenticated)
    {
        lock (_lock)
        {
            _open--;
            if (_byAddress.TryGetValue(address, out var counts))
            {
                counts = (counts.Open - 1, counts.Unauthenticated - (wasAuthenticated ? 0 : 1));
                if (counts.Open <= 0)
                {
                    _byAddress.Remove(address);
                }
                else
                {
                    _byAddress[address] = counts;
                }
            }
        }
    }
}
