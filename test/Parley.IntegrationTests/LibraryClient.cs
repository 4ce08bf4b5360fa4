using Parley.Client;

namespace Parley.IntegrationTests;

/// <summary>The real client library against a server process, pinned to its key.</summary>
public static class LibraryClient
{
    public static Task<ParleyConnection> ConnectAsync(ServerProcess server) =>
        ParleyConnection.ConnectAsync(new ServerAddress("127.0.0.1", server.Port), ServerTrust.ExactKey(server.Fingerprint));

    public static async Task<ParleyConnection> LoginAsync(ServerProcess server, string user, string device, bool register = false)
    {
        var connection = await ConnectAsync(server);
        if (register)
        {
            await connection.RegisterAsync(user, Accounts.Password, device);
        }
        else
        {
            await connection.LoginAsync(user, Accounts.Password, device);
        }

        return connection;
    }

    /// <summary>
    /// The next event of type <typeparamref name="T"/> (that <paramref name="match"/> accepts, if given), skipping
    /// others, within <see cref="Parley.Timeout"/>. A close of the connection first fails at once, with its reason.
    /// </summary>
    public static async Task<T> NextEventAsync<T>(ParleyConnection connection, Func<T, bool>? match = null)
        where T : ServerEvent
    {
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        await foreach (var serverEvent in connection.Events.ReadAllAsync(deadline.Token))
        {
            if (serverEvent is T wanted && (match is null || match(wanted)))
            {
                return wanted;
            }

            if (serverEvent is ClosedEvent closed)
            {
                throw new IOException($"closed while waiting for {typeof(T).Name}: " + closed.Error?.Message, closed.Exception);
            }
        }

        throw new IOException($"events ended before {typeof(T).Name}");
    }

    /// <summary>SYNC from <paramref name="after"/> and collect every message until SYNCED.</summary>
    public static async Task<List<Protocol.Frames.DeliverFrame>> CatchUpAsync(ParleyConnection connection, ulong after = 0)
    {
        await connection.SyncAsync(after);
        var messages = new List<Protocol.Frames.DeliverFrame>();
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        await foreach (var serverEvent in connection.Events.ReadAllAsync(deadline.Token))
        {
            switch (serverEvent)
            {
                case MessageEvent message:
                    messages.Add(message.Message);
                    break;
                case SyncedEvent:
                    return messages;
                case ClosedEvent closed:
                    throw new IOException("closed during catch-up: " + closed.Error?.Message, closed.Exception);
            }
        }

        throw new IOException("events ended before SYNCED");
    }
}
