using System.Diagnostics.Metrics;

namespace Parley.Server;

/// <summary>
/// The server's instruments (meter "Parley.Server"), readable with dotnet-counters or any OpenTelemetry exporter.
/// The open-connection count is also a plain property, so the P2P tests and the log can read it.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "Parley.Server";
    private readonly Meter _meter = new(MeterName);
    private long _connections;
    private long _sessions;
    private long _messagesStored;
    private long _connectionsAccepted;
    private long _heartbeats;
    private long _lookups;

    public ServerMetrics()
    {
        _meter.CreateObservableUpDownCounter("parley.connections", () => Connections, description: "Open connections");
        _meter.CreateObservableUpDownCounter("parley.sessions", () => Sessions, description: "Logged-in sessions");
        MessagesIn = _meter.CreateCounter<long>("parley.messages.in", description: "Messages stored from senders");
        MessagesOut = _meter.CreateCounter<long>("parley.messages.out", description: "Log entries pushed to devices");
        LoginFailures = _meter.CreateCounter<long>("parley.logins.failed");
        _meter.CreateObservableCounter("parley.connections.accepted", () => ConnectionsAccepted, description: "Connections opened since start");
        _meter.CreateObservableUpDownCounter("parley.directory.entries", () => DirectoryEntries, description: "Devices in the P2P directory");
        _meter.CreateObservableCounter("parley.directory.heartbeats", () => Heartbeats, description: "P2P heartbeats accepted");
        _meter.CreateObservableCounter("parley.directory.lookups", () => Lookups, description: "P2P directory lookups answered");
    }

    /// <summary>Connections opened since start (open or closed).</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);

    /// <summary>Heartbeats accepted since start.</summary>
    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    /// <summary>Directory lookups answered since start.</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    /// <summary>Devices in the P2P directory now (set by the directory's owner).</summary>
    public long DirectoryEntries => DirectoryCount?.Invoke() ?? 0;

    internal Func<int>? DirectoryCount { get; set; }

    internal void HeartbeatReceived() => Interlocked.Increment(ref _heartbeats);

    internal void LookupServed() => Interlocked.Increment(ref _lookups);

    public long Connections => Interlocked.Read(ref _connections);

    public long Sessions => Interlocked.Read(ref _sessions);

    /// <summary>Messages stored from senders since start (duplicates of a retried id not counted).</summary>
    public long MessagesStored => Interlocked.Read(ref _messagesStored);

    public Counter<long> MessagesIn { get; }

    public Counter<long> MessagesOut { get; }

    public Counter<long> LoginFailures { get; }

    internal void ConnectionOpened()
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Increment(ref _connectionsAccepted);
    }

    internal void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    internal void MessageStored()
    {
        Interlocked.Increment(ref _messagesStored);
        MessagesIn.Add(1);
    }

    internal void SessionOpened() => Interlocked.Increment(ref _sessions);

    internal void SessionClosed() => Interlocked.Decrement(ref _sessions);

    public void Dispose() => _meter.Dispose();
}
