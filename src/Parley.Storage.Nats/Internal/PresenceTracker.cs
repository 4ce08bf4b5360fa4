using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using NATS.Client.Core;

namespace Parley.Storage.Nats.Internal;

/// <summary>
/// Cluster-wide presence over core NATS, without storage: each node announces changes of its own users at once and
/// its whole list every <see cref="Heartbeat"/>; a node not heard from for <see cref="Expiry"/> (it died) is dropped,
/// and its users go offline. A KV bucket with MaxAge was the alternative; on nats-server 2.9 an expired key emits no
/// delete marker (watchers never learn "went offline") and TTL is per bucket only, so a heartbeat over core NATS gives
/// the same expiry with offline events and no disk writes.
/// </summary>
internal sealed class PresenceTracker(NatsConnection connection, string subject, string node, TimeProvider time)
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(16);

    private readonly ConcurrentDictionary<string, int> _local = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Dictionary<string, int> Users, long Seen)> _nodes = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly Channel<PresenceBody> _outbox = Channel.CreateUnbounded<PresenceBody>(new UnboundedChannelOptions { SingleReader = true });
    private IReadOnlyDictionary<string, int> _remote = new Dictionary<string, int>(StringComparer.Ordinal);

    public Action<string, bool>? Changed { get; set; }

    public Action<string, string?, string?, ushort, string>? Close { get; set; }

    /// <summary>Sent on the presence subject, so it stays in order with this node's presence changes.</summary>
    public void RequestClose(CloseBody close) =>
        _outbox.Writer.TryWrite(new PresenceBody(node, [], Full: false, Close: close));

    public IReadOnlyDictionary<string, int> Remote => Volatile.Read(ref _remote);

    public void SetLocal(string user, int devices)
    {
        if (devices > 0)
        {
            _local[user] = devices;
        }
        else
        {
            _local.TryRemove(user, out _);
        }

        _outbox.Writer.TryWrite(new PresenceBody(node, new Dictionary<string, int>(StringComparer.Ordinal) { [user] = devices }, Full: false));
    }

    /// <summary>Subscribes, says hello, then runs the publisher, the listener and the heartbeat until cancelled.</summary>
    public async Task<Task> StartAsync(CancellationToken cancellationToken)
    {
        var subscription = await connection.SubscribeCoreAsync<byte[]>(subject, cancellationToken: cancellationToken).ConfigureAwait(false);
        _outbox.Writer.TryWrite(new PresenceBody(node, [], Full: true, Hello: true));
        return Task.WhenAll(ListenAsync(subscription, cancellationToken), PublishAsync(cancellationToken), HeartbeatAsync(cancellationToken));
    }

    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var body in _outbox.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await connection.PublishAsync(subject, JsonSerializer.SerializeToUtf8Bytes(body, JsonContext.Default.PresenceBody),
                        cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (NatsException)
                {
                    // the next heartbeat repeats the whole list
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Heartbeat, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                _outbox.Writer.TryWrite(Full());
                Sweep();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private PresenceBody Full() => new(node, new Dictionary<string, int>(_local, StringComparer.Ordinal), Full: true);

    private async Task ListenAsync(INatsSub<byte[]> subscription, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                PresenceBody? body;
                try
                {
                    body = message.Data is null ? null : JsonSerializer.Deserialize(message.Data, JsonContext.Default.PresenceBody);
                }
                catch (JsonException)
                {
                    continue;
                }

                if (body is null || body.Node == node)
                {
                    continue;
                }

                if (body.Hello)
                {
                    _outbox.Writer.TryWrite(Full());
                }

                if (body.Close is { } close)
                {
                    Close?.Invoke(close.User, close.Device, close.ExceptDevice, close.Code, close.Reason);
                    continue;
                }

                Apply(body);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Apply(PresenceBody body)
    {
        lock (_lock)
        {
            var before = Remote;
            if (!_nodes.TryGetValue(body.Node, out var state))
            {
                state = (new Dictionary<string, int>(StringComparer.Ordinal), 0);
            }

            if (body.Full)
            {
                state.Users.Clear();
            }

            foreach (var (user, devices) in body.Users)
            {
                if (devices > 0)
                {
                    state.Users[user] = devices;
                }
                else
                {
                    state.Users.Remove(user);
                }
            }

            _nodes[body.Node] = (state.Users, time.GetTimestamp());
            Publish(before);
        }
    }

    /// <summary>Drops nodes not heard from within <see cref="Expiry"/>: their users are offline unless seen elsewhere.</summary>
    private void Sweep()
    {
        lock (_lock)
        {
            var before = Remote;
            foreach (var (name, state) in _nodes.ToList())
            {
                if (time.GetElapsedTime(state.Seen) > Expiry)
                {
                    _nodes.Remove(name);
                }
            }

            Publish(before);
        }
    }

    /// <summary>Recomputes the merged view and reports users whose remote state flipped. Caller holds the lock.</summary>
    private void Publish(IReadOnlyDictionary<string, int> before)
    {
        var after = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, state) in _nodes)
        {
            foreach (var (user, devices) in state.Users)
            {
                after[user] = after.GetValueOrDefault(user) + devices;
            }
        }

        Volatile.Write(ref _remote, after);
        foreach (var user in after.Keys.Where(user => !before.ContainsKey(user)))
        {
            Changed?.Invoke(user, true);
        }

        foreach (var user in before.Keys.Where(user => !after.ContainsKey(user)))
        {
            Changed?.Invoke(user, false);
        }
    }
}
