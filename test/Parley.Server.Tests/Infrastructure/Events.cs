using Parley.Client;
using Parley.Protocol.Frames;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>Waiting for what a server pushes to a client, always with a generous deadline.</summary>
internal static class Events
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The next event of any kind.</summary>
    public static async Task<ServerEvent> NextEventAsync(this ParleyConnection connection)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            return await connection.Events.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"no event within {Timeout.TotalSeconds} s");
        }
    }

    /// <summary>
    /// The next event of type <typeparamref name="T"/> that matches, skipping others. A close before it fails the
    /// wait (unless a <see cref="ClosedEvent"/> is what is asked for).
    /// </summary>
    public static async Task<T> NextAsync<T>(this ParleyConnection connection, Func<T, bool>? match = null)
        where T : ServerEvent
    {
        while (true)
        {
            var next = await connection.NextEventAsync();
            if (next is T wanted && (match is null || match(wanted)))
            {
                return wanted;
            }

            if (next is ClosedEvent closed)
            {
                throw new InvalidOperationException(
                    $"the connection closed while waiting for {typeof(T).Name}: {closed.Error?.Code} {closed.Error?.Message} {closed.Exception?.Message}");
            }
        }
    }

    /// <summary>The next delivered message, skipping presence and SYNCED.</summary>
    public static async Task<DeliverFrame> NextMessageAsync(this ParleyConnection connection) =>
        (await connection.NextAsync<MessageEvent>()).Message;

    /// <summary>Waits until the server closes the connection, and returns the close with the server's reason.</summary>
    public static Task<ClosedEvent> ClosedAsync(this ParleyConnection connection) => connection.NextAsync<ClosedEvent>();

    /// <summary>Sends SYNC and collects every DELIVER up to SYNCED, skipping presence.</summary>
    public static async Task<(List<DeliverFrame> Messages, ulong Head)> SyncAllAsync(this ParleyConnection connection, ulong after)
    {
        await connection.SyncAsync(after).WaitAsync(Timeout);
        var messages = new List<DeliverFrame>();
        while (true)
        {
            switch (await connection.NextEventAsync())
            {
                case MessageEvent message:
                    messages.Add(message.Message);
                    break;
                case SyncedEvent synced:
                    return (messages, synced.Head);
                case ClosedEvent closed:
                    throw new InvalidOperationException($"the connection closed during SYNC: {closed.Error?.Code} {closed.Error?.Message}");
            }
        }
    }
}
