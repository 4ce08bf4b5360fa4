using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Parley.Client;
using Parley.Protocol;
using Xunit.Abstractions;

namespace Parley.IntegrationTests.Faults;

/// <summary>
/// security.md 30: the real server process, two senders and one online recipient, each connected through its own
/// fault proxy, while random toxics hit random proxies for <see cref="ChaosDuration"/>. Then the toxics go, the senders
/// finish, and the invariants of security.md 20-23 are checked: every acknowledged message delivered, nothing shown
/// twice after the client's dedupe, each sender's messages in the order sent, nothing delivered that was never sent.
/// </summary>
public sealed class ChaosTests : IDisposable
{
    /// <summary>How long toxics are applied.</summary>
    private static readonly TimeSpan ChaosDuration = TimeSpan.FromSeconds(60);

    /// <summary>Each sender makes a new message this often while the chaos lasts (about 125 per second).</summary>
    private static readonly TimeSpan SendInterval = TimeSpan.FromMilliseconds(8);

    /// <summary>Every third reconnect the recipient SYNCs from its last ACK, as a restarted client would: redeliveries.</summary>
    private const int RestartEvery = 3;

    /// <summary>Bounds each phase after the chaos: senders finishing, the recipient catching up.</summary>
    private static readonly TimeSpan FinishTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Server log events counted in the report.</summary>
    private static readonly string[] ServerLogEvents =
        ["logged in", "replaced by a newer login", "failed TLS", "Slow consumer", "refused", "broke the protocol", "failed unexpectedly", "Store write failed"];

    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public ChaosTests(ITestOutputHelper output) => _output = output;

    [Trait("Security", "30")]
    [Fact]
    public async Task RandomToxicsOnEveryLink_EveryAcknowledgedMessageDeliveredOnceInSendOrder()
    {
        // The rate limit is lifted (the senders pipeline as fast as they may), and the recipient's quota is raised so
        // that a long outage of the recipient cannot make the server refuse sends: this test is about delivery alone.
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"), "--rate-limit", "0", "--max-unacknowledged", "1000000");
        foreach (var user in new[] { "s1", "s2", "rcpt" })
        {
            await using var registration = await LibraryClient.LoginAsync(server, user, "setup", register: true);
        }

        await using var proxyS1 = FaultProxy.Start(server.Port);
        await using var proxyS2 = FaultProxy.Start(server.Port);
        await using var proxyRecipient = FaultProxy.Start(server.Port);
        var trust = ServerTrust.ExactKey(server.Fingerprint);
        Func<CancellationToken, Task<ParleyConnection>> Through(FaultProxy proxy, string user, string device) => async cancellationToken =>
        {
            var connection = await ParleyConnection.ConnectAsync(new ServerAddress("127.0.0.1", proxy.Port), trust, null, cancellationToken);
            try
            {
                await connection.LoginAsync(user, Accounts.Password, device, cancellationToken);
                return connection;
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        };

        var acknowledged = new ConcurrentDictionary<MessageId, ChaosMessage>();
        ChaosSender[] senders =
        [
            new("s1", "rcpt", SendInterval, Through(proxyS1, "s1", "sender"), m => acknowledged.TryAdd(m.Id, m)),
            new("s2", "rcpt", SendInterval, Through(proxyS2, "s2", "sender"), m => acknowledged.TryAdd(m.Id, m)),
        ];
        var recipient = new ChaosRecipient(Through(proxyRecipient, "rcpt", "reader"), restartEvery: RestartEvery);
        var seed = Random.Shared.Next();
        var monkey = new ChaosMonkey(seed, [proxyS1, proxyS2, proxyRecipient]);
        Report($"chaos seed {seed}, {ChaosDuration.TotalSeconds} s of toxics");

        using var deadline = new CancellationTokenSource(ChaosDuration + (3 * FinishTimeout));
        using var stopReceiving = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        var receiving = recipient.RunAsync(stopReceiving.Token);
        var sending = senders.Select(s => s.RunAsync(deadline.Token)).ToArray();

        try
        {
            await monkey.RunAsync(ChaosDuration, deadline.Token);
            foreach (var proxy in new[] { proxyS1, proxyS2, proxyRecipient })
            {
                proxy.Clear();
            }

            foreach (var sender in senders)
            {
                sender.StopProducing();
            }

            await Task.WhenAll(sending).WaitAsync(FinishTimeout);
            await recipient.WaitForAllAsync(acknowledged.Keys, FinishTimeout);
            await stopReceiving.CancelAsync();
            await receiving.WaitAsync(FinishTimeout);
        }
        catch
        {
            // Stop every loop (they would otherwise retry against a server that is going away), and say what was seen.
            await deadline.CancelAsync();
            Report($"FAILED after {monkey.Total} toxics, {acknowledged.Count} acknowledged; sender errors: " +
                string.Join("; ", senders.SelectMany(s => s.Errors).Take(10)) + "; recipient violations: " + string.Join("; ", recipient.Violations.Take(10)) +
                $"; recipient logins {recipient.Logins}, deliveries {recipient.Deliveries}, endings {Describe(recipient.Endings)}");
            throw;
        }

        var sent = senders.SelectMany(s => s.Messages).ToDictionary(m => m.Id);
        var shown = recipient.Shown;
        ReportFigures(senders, recipient, monkey, acknowledged.Count, [proxyS1, proxyS2, proxyRecipient]);
        var serverLog = server.Log;
        var serverEvents = ServerLogEvents.ToDictionary(e => e, e => serverLog.Split('\n').Count(l => l.Contains(e, StringComparison.Ordinal)));
        Report("server log: " + Describe(serverEvents));

        Assert.Empty(senders.SelectMany(s => s.Errors));
        // A cut or reset connection is not a protocol error: TLS never lets a half frame or a corrupted one through.
        Assert.DoesNotContain("broke the protocol", serverLog, StringComparison.Ordinal);
        Assert.DoesNotContain("failed unexpectedly", serverLog, StringComparison.Ordinal);
        Assert.DoesNotContain("Store write failed", serverLog, StringComparison.Ordinal);
        Assert.Empty(recipient.Violations);
        Assert.True(monkey.Total >= 20, $"only {monkey.Total} toxics were applied");
        Assert.True(senders.Sum(s => s.Logins) + recipient.Logins > 3, "nobody ever had to reconnect: the chaos did nothing");
        Assert.Equal(sent.Count, acknowledged.Count); // the senders finished: everything they made was acknowledged
        // Never lost: every acknowledged id was delivered, with its text.
        var shownById = shown.ToDictionary(d => d.Id); // throws if an id was shown twice
        Assert.All(acknowledged.Values, m => Assert.True(shownById.TryGetValue(m.Id, out var d) && d.Text == m.Text && d.From == m.Sender,
            $"acknowledged message '{m.Text}' ({m.Id}) was not delivered"));
        // Never invented: every delivered id was sent, by that sender, with that text.
        Assert.All(shown, d => Assert.True(sent.TryGetValue(d.Id, out var m) && m.Text == d.Text && m.Sender == d.From && d.To == "rcpt",
            $"delivered {d.Id} '{d.Text}' from {d.From} was never sent"));
        // Shown once each, in log order.
        Assert.True(shown.Zip(shown.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), "shown sequences must increase");
        // Each sender's messages in the order they were sent.
        foreach (var sender in senders)
        {
            var order = shown.Where(d => d.From == sender.User).Select(d => sent[d.Id].Index).ToList();
            Assert.Equal(Enumerable.Range(0, sender.Messages.Count), order);
        }
    }

    private void ReportFigures(ChaosSender[] senders, ChaosRecipient recipient, ChaosMonkey monkey, int acknowledged, FaultProxy[] proxies)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"messages sent (made): {senders.Sum(s => s.Messages.Count)} ({string.Join(", ", senders.Select(s => $"{s.User} {s.Messages.Count}"))})");
        text.AppendLine(CultureInfo.InvariantCulture, $"SEND frames: {senders.Sum(s => s.SendAttempts)}, of which resends after a reconnect: {senders.Sum(s => s.Resends)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"acknowledged: {acknowledged}");
        text.AppendLine(CultureInfo.InvariantCulture, $"toxics applied: {monkey.Total} ({string.Join(", ", monkey.Applied.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))})");
        text.AppendLine(CultureInfo.InvariantCulture, $"proxy connections: {proxies.Sum(p => p.Accepted)} accepted, {proxies.Sum(p => p.Resets)} reset, {proxies.Sum(p => p.Cuts)} cut by limit_data, {proxies.Sum(p => p.Refused)} refused");
        foreach (var sender in senders)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{sender.User}: {sender.Logins} logins ({sender.Logins - 1} reconnects), {sender.Stalls} stalled connections given up, " +
                $"failed attempts: {Describe(sender.ConnectFailures)}, sends hung after close: {sender.SendsHungAfterClose}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"recipient: {recipient.Logins} logins ({recipient.Logins - 1} reconnects), {recipient.FailedConnects} failed attempts, {recipient.Syncs} SYNCs ({recipient.RestartSyncs} from the last ACK), {recipient.Acks} ACKs");
        text.AppendLine(CultureInfo.InvariantCulture, $"recipient connections ended by: {Describe(recipient.Endings)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"DELIVERs received: {recipient.Deliveries}, shown: {recipient.Shown.Count}, duplicates filtered: {recipient.Duplicates}");
        Report(text.ToString());
    }

    private static string Describe(IReadOnlyDictionary<string, int> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));

    private void Report(string line)
    {
        Console.WriteLine(line);
        _output.WriteLine(line);
    }

    public void Dispose() => _dir.Dispose();
}
