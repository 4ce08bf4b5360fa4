using System.Net.Sockets;
using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>
/// Several nodes of one Parley cluster, as a client knows them: `--server a:7878,b:7878`. A connection tries them in
/// order and takes the first that answers, so a device whose node died reconnects to another and catches up from its
/// cursor (the cluster shares the logs). A single address is a list of one, so every home works unchanged.
/// </summary>
public static class ServerList
{
    /// <summary>Parses HOST:PORT[,HOST:PORT...].</summary>
    public static IReadOnlyList<ServerAddress> Parse(string text)
    {
        var parts = (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 0 ? throw new FormatException("empty server address") : parts.Select(ServerAddress.Parse).ToList();
    }

    public static string Format(IEnumerable<ServerAddress> servers) => string.Join(",", servers);

    /// <summary>
    /// Connects to the first server that answers; throws the last failure when none does. A server whose key is
    /// refused is not skipped silently: the identity error is thrown at once, since it may be an attack.
    /// </summary>
    public static Task<ParleyConnection> ConnectAsync(IReadOnlyList<ServerAddress> servers, ServerTrust trust, CancellationToken cancellationToken = default) =>
        FirstAsync(servers, server => ParleyConnection.ConnectAsync(server, trust, cancellationToken: cancellationToken));

    /// <summary>
    /// <see cref="ParleyConnection.ConnectAndResumeAsync"/> on the first server that answers (HELLO, RESUME and SYNC in
    /// one round trip); the same rules as <see cref="ConnectAsync"/>.
    /// </summary>
    public static Task<(ParleyConnection Connection, AuthOkFrame Ok)> ConnectAndResumeAsync(IReadOnlyList<ServerAddress> servers,
        ServerTrust trust, string user, byte[] token, string device, ulong? syncAfter, CancellationToken cancellationToken = default) =>
        FirstAsync(servers, server => ParleyConnection.ConnectAndResumeAsync(server, trust, user, token, device, syncAfter, cancellationToken: cancellationToken));

    private static async Task<T> FirstAsync<T>(IReadOnlyList<ServerAddress> servers, Func<ServerAddress, Task<T>> connect)
    {
        Exception? last = null;
        foreach (var server in servers)
        {
            try
            {
                return await connect(server).ConfigureAwait(false);
            }
            catch (Exception exception) when (servers.Count > 1 && exception is SocketException or IOException or TimeoutException)
            {
                last = exception;
            }
        }

        throw last ?? new IOException("no server to connect to");
    }
}
