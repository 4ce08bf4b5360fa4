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

    public ServerMetrics()
    {
        _meter.CreateObservableUpDownCounter("parley.connections", () => Connections, description: "Open connections");
        _meter.CreateObservableUpDownCounter("parley.sessions", () => Sessions, description: "Logged-in sessions");
        MessagesIn = _meter.CreateCounter<long>("parley.messages.in", description: "Messages stored from senders");
        MessagesOut = _meter.CreateCounter<long>("parley.messages.out", description: "Log entries pushed to devices");
        LoginFailures = _meter.CreateCounter<long>("parley.logins.failed");
    }

    public long Connections => Interlocked.Read(ref _connections);

    public long Sessions => Interlocked.Read(ref _sessions);

    /// <summary>Messages stored from senders since start (duplicates of a retried id not counted).</summary>
    public long MessagesStored => Interlocked.Read(ref _messagesStored);

    public Counter<long> MessagesIn { get; }

    public Counter<long> MessagesOut { get; }

    public Counter<long> LoginFailures { get; }

    internal void ConnectionOpened() => Interlocked.Increment(ref _connections);

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
