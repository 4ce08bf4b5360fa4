namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// The one nats-server that every <see cref="ServerProcess"/> uses when the suite runs in cluster mode
/// (PARLEY_TEST_NATS=1): started on first use, killed by its process id when the test process exits.
/// </summary>
public static class SharedNats
{
    private static readonly Lazy<Task<NatsServerProcess>> Server = new(StartAsync);

    public static Task<NatsServerProcess> GetAsync() => Server.Value;

    private static async Task<NatsServerProcess> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "parley-it-nats-" + Guid.NewGuid().ToString("N")[..12]);
        var server = await NatsServerProcess.StartSingleAsync(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            server.Dispose();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return server;
    }
}
