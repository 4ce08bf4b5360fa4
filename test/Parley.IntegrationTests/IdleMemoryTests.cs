using Parley.Protocol;

namespace Parley.IntegrationTests;

/// <summary>
/// The real `parley serve` gives memory back once it goes idle after some work (`--idle-memory-release`,
/// IdleMemoryRelease; docs/architecture.md, "Connections"): the full collection runs and says so in the debug log, and
/// the server goes on working after it. The rule itself is tested on given samples in Parley.Server.Tests.
/// </summary>
public sealed class IdleMemoryTests : IDisposable
{
    private static readonly string Text = new('m', 1024);
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task IdleAfterWork_ServerCollectsAndLogsIt_ThenStillDelivers()
    {
        // 1 MiB instead of 32: a few hundred messages are enough work.
        await using var server = await ServerProcess.StartAsync(
            _dir.Sub("data"), "--idle-memory-release", "1", "--log-level", "Debug", "--rate-limit", "0", "--max-unacknowledged", "1000000");
        await using (await LibraryClient.LoginAsync(server, "bob", "phone", register: true))
        {
        }

        await using var alice = await LibraryClient.LoginAsync(server, "alice", "laptop", register: true);

        // Work, then idle, until the server reports a release: a collection by the runtime in between moves the mark
        // (the garbage counts from there, and must reach the heap it left), so more work may be needed.
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var sent = 0;
        while (!server.Log.Contains("Idle: gave back the memory", StringComparison.Ordinal))
        {
            for (var i = 0; i < 200; i++, sent++)
            {
                await alice.SendAsync(MessageId.NewTimeOrdered(), "bob", $"{sent} {Text}").WaitAsync(deadline.Token);
            }

            // Idle for a few of the release's half-second looks.
            for (var look = 0; look < 30 && !server.Log.Contains("Idle: gave back the memory", StringComparison.Ordinal); look++)
            {
                await Task.Delay(100, deadline.Token);
            }
        }

        await alice.SendAsync(MessageId.NewTimeOrdered(), "bob", "after the release").WaitAsync(deadline.Token);
        await using var bob = await LibraryClient.LoginAsync(server, "bob", "phone");
        var delivered = await LibraryClient.CatchUpAsync(bob);
        Assert.Equal(sent + 1, delivered.Count);
        Assert.Equal("after the release", delivered[^1].Text);
    }

    public void Dispose() => _dir.Dispose();
}
