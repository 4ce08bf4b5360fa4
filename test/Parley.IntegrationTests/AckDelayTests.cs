using Parley.Client;
using Parley.Protocol;

namespace Parley.IntegrationTests;

/// <summary>
/// The receive loop's delayed ACK (DeviceSession.AckDelay): what it shows is acknowledged within the delay even when
/// nothing more arrives, and a burst within the delay costs the server one ACK. Observed from the sender's side,
/// through the receipts the server sends when the recipient acknowledges (protocol §5.8).
/// </summary>
public sealed class AckDelayTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task HeldBackAck_NothingMoreArrives_StillSentAndSenderGetsTheReceipt()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var bobHome = _dir.Sub("bob");
        await Accounts.RegisterAsync(server, bobHome, "bob");
        await using var alice = await LibraryClient.LoginAsync(server, "alice", "phone", register: true);
        await using var bob = await DeviceSession.OpenAsync(new DeviceHome(bobHome), DeviceRole.Interactive);
        bob.AckDelay = TimeSpan.FromMilliseconds(300);
        using var stop = new CancellationTokenSource();
        var shown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiving = bob.ReceiveAsync(_ => { shown.TrySetResult(); return ValueTask.CompletedTask; }, null, follow: true, stop.Token);

        var sent = await alice.SendAsync(MessageId.NewTimeOrdered(), "bob", "one and then silence").WaitAsync(Parley.Timeout);
        await shown.Task.WaitAsync(Parley.Timeout);

        var receipt = await LibraryClient.NextEventAsync<ReceiptEvent>(alice);
        Assert.Equal(("bob", sent.Sequence), (receipt.Peer, receipt.UpTo));
        await StopAsync(stop, receiving);
    }

    [Fact]
    public async Task BurstWithinTheDelay_OneAckForAll_OneReceiptNamingTheLast()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var bobHome = _dir.Sub("bob");
        await Accounts.RegisterAsync(server, bobHome, "bob");
        await using var alice = await LibraryClient.LoginAsync(server, "alice", "phone", register: true);
        await using var bob = await DeviceSession.OpenAsync(new DeviceHome(bobHome), DeviceRole.Interactive);
        // Long enough that five sends over loopback always fit in it; the test waits for the receipt, not for the delay.
        bob.AckDelay = TimeSpan.FromSeconds(3);
        using var stop = new CancellationTokenSource();
        var count = 0;
        var allShown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiving = bob.ReceiveAsync(_ =>
        {
            if (Interlocked.Increment(ref count) == 5)
            {
                allShown.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }, serverEvent => { if (serverEvent is SyncedEvent) { synced.TrySetResult(); } }, follow: true, stop.Token);
        await synced.Task.WaitAsync(Parley.Timeout); // the burst is live traffic, not part of the catch-up

        ulong last = 0;
        for (var i = 0; i < 5; i++)
        {
            last = (await alice.SendAsync(MessageId.NewTimeOrdered(), "bob", $"burst {i}").WaitAsync(Parley.Timeout)).Sequence;
        }

        await allShown.Task.WaitAsync(Parley.Timeout);
        var receipt = await LibraryClient.NextEventAsync<ReceiptEvent>(alice);
        Assert.Equal(last, receipt.UpTo); // the first receipt already covers all five: no ACK went out per message
        await StopAsync(stop, receiving);
    }

    public void Dispose() => _dir.Dispose();

    private static async Task StopAsync(CancellationTokenSource stop, Task receiving)
    {
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiving.WaitAsync(Parley.Timeout));
    }
}
