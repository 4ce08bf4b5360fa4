namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// One JetStream nats-server for a test class, on loopback with a temporary store; each test uses its own
/// namespace (<see cref="NewNamespace"/>), so tests sharing the server never see each other's streams.
/// </summary>
public sealed class NatsFixture : IAsyncLifetime
{
    private readonly TempDirectory _root = new();

    public NatsServerProcess Server { get; private set; } = null!;

    public static string NewNamespace() => "t" + Guid.NewGuid().ToString("N")[..12];

    public async Task InitializeAsync() => Server = await NatsServerProcess.StartSingleAsync(Path.Combine(_root.Path, "js"));

    public Task DisposeAsync()
    {
        Server?.Dispose();
        _root.Dispose();
        return Task.CompletedTask;
    }
}
