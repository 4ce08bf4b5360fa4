using System.Collections.Concurrent;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Parley.Client;
using Parley.Protocol;

namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// The cluster's durability claim, end to end: a three-node NATS cluster (R3 streams and buckets), two Parley nodes,
/// four senders under load; `kill -9` of one Parley node, then of the NATS server leading the log stream. Afterwards
/// every acknowledged message is in the recipient's log exactly once, and a live receiver saw each exactly once.
/// </summary>
public sealed class ClusterKillTests
{
    private const int Senders = 4;
    private const int PerSender = 200;

    [Fact]
    public async Task KillParleyNodeThenStreamLeader_UnderLoad_EveryAcknowledgedMessageDeliveredExactlyOnce()
    {
        using var root = new TempDirectory();
        var natsServers = await NatsServerProcess.StartClusterAsync(root.Sub("nats"));
        try
        {
            var urls = string.Join(",", natsServers.Select(s => s.Url));
            await using var cluster = await ClusterNodes.StartAsync(urls, 2, "--rate-limit", "0");
            for (var s = 0; s < Senders; s++)
            {
                await using var _ = await cluster.LoginAsync($"sender{s}", "dev", register: true, s % 2);
            }

            await using (await cluster.LoginAsync("rcv", "dev", register: true, 1))
            {
            }

            using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            var acked = new ConcurrentDictionary<MessageId, int>();
            var receiver = new KillTestReceiver(cluster);
            var receiving = receiver.RunAsync(stop.Token);
            // Senders 0 and 2 start on node 0 (killed), 1 and 3 on node 1; each fails over to the other node.
            var sending = Enumerable.Range(0, Senders).Select(s => SendAllAsync(cluster, $"sender{s}", s % 2 == 0 ? [0, 1] : [1, 0], acked, stop.Token)).ToArray();

            await WaitUntilAsync(() => acked.Count >= Senders * PerSender / 4, stop.Token);
            await cluster.Nodes[0].KillAsync();
            var ackedAtParleyKill = acked.Count;

            await WaitUntilAsync(() => acked.Count >= ackedAtParleyKill + Senders * PerSender / 4, stop.Token);
            var leader = await StreamLeaderAsync(natsServers, cluster.Namespace.ToUpperInvariant() + "_LOG");
            var leaderProcess = natsServers.Single(s => s.Name == leader);
            leaderProcess.Kill();
            var ackedAtLeaderKill = acked.Count;

            await Task.WhenAll(sending).WaitAsync(stop.Token);
            Assert.Equal(Senders * PerSender, acked.Count);

            // Live receiver: saw every acknowledged message (deduplicated by id) — wait for it with a deadline.
            await WaitUntilAsync(() => acked.Keys.All(receiver.Seen.ContainsKey), stop.Token);
            await stop.CancelAsync();
            await receiving;

            // The log itself: a fresh device catches up from 0 and finds each acknowledged message exactly once.
            await using var fresh = await cluster.LoginAsync("rcv", "audit", register: false, 1);
            var all = await LibraryClient.CatchUpAsync(fresh, 0);

            var counts = all.GroupBy(m => (m.From, m.Id)).ToDictionary(g => g.Key.Id, g => g.Count());
            var missing = acked.Keys.Where(id => !counts.ContainsKey(id)).ToList();
            var storedTwice = counts.Count(pair => pair.Value > 1);
            Assert.True(missing.Count == 0, $"{missing.Count} acknowledged messages missing from the log");
            // After dedupe by (sender, id), as the client library does, each acknowledged message is shown exactly once.
            Assert.Equal(acked.Count, acked.Keys.Count(counts.ContainsKey));
            Assert.Equal(acked.Count, acked.Keys.Count(receiver.Seen.ContainsKey));
            // A second stored copy needs a retry whose first attempt was stored but not acknowledged.
            Assert.True(storedTwice <= _retries, $"{storedTwice} messages stored twice with only {_retries} retries");
            Console.WriteLine($"kill test: {acked.Count} acked ({ackedAtParleyKill} before the Parley kill, {ackedAtLeaderKill} before killing stream leader {leader}); " +
                $"log holds {all.Count} entries for rcv, {storedTwice} stored twice; live receiver saw {receiver.Duplicates} repeats before dedupe, " +
                $"reconnected {receiver.Reconnects} times; senders retried {_retries} times");
        }
        finally
        {
            foreach (var server in natsServers)
            {
                server.Dispose();
            }
        }
    }

    private static int _retries;

    private static async Task SendAllAsync(ClusterNodes cluster, string user, int[] order, ConcurrentDictionary<MessageId, int> acked, CancellationToken cancellationToken)
    {
        ParleyConnection? connection = null;
        try
        {
            for (var i = 0; i < PerSender; i++)
            {
                var id = MessageId.NewRandom();
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    try
                    {
                        connection ??= await cluster.LoginAsync(user, "dev", register: false, order);
                        await connection.SendAsync(id, "rcv", $"{user} {i}", cancellationToken);
                        acked[id] = 1;
                        break;
                    }
                    catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException
                        or ParleyErrorException { Code: ErrorCode.InternalError or ErrorCode.Conflict or ErrorCode.ServerShuttingDown })
                    {
                        // Not acknowledged: send the same id again (on whichever node answers); the store deduplicates.
                        Interlocked.Increment(ref _retries);
                        if (connection is not null && connection.Completion.IsCompleted)
                        {
                            await connection.DisposeAsync();
                            connection = null;
                        }
                    }
                }
            }
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task<string> StreamLeaderAsync(NatsServerProcess[] servers, string stream)
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = string.Join(",", servers.Where(s => !s.HasExited).Select(s => s.Url)) });
        var js = new NatsJSContext(connection);
        var info = await js.GetStreamAsync(stream);
        return info.Info.Cluster?.Leader ?? throw new InvalidOperationException("the stream has no leader");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>
    /// A device of rcv that stays connected, acknowledges as it goes, and after any failure logs in again on a node
    /// that answers and SYNCs from its cursor, as the real client does. Counts what it sees twice (before dedupe).
    /// </summary>
    private sealed class KillTestReceiver(ClusterNodes cluster)
    {
        public ConcurrentDictionary<MessageId, int> Seen { get; } = new();

        public int Duplicates;

        public int Reconnects;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var cursor = 0UL;
            while (!cancellationToken.IsCancellationRequested)
            {
                ParleyConnection connection;
                try
                {
                    connection = await cluster.LoginAsync("rcv", "dev", register: false, 1, 0);
                }
                catch (IOException)
                {
                    continue;
                }

                await using (connection)
                {
                    try
                    {
                        await connection.SyncAsync(cursor, cancellationToken);
                        await foreach (var serverEvent in connection.Events.ReadAllAsync(cancellationToken))
                        {
                            if (serverEvent is MessageEvent { Message: var message } && message.Sequence > cursor)
                            {
                                if (!Seen.TryAdd(message.Id, 1))
                                {
                                    Interlocked.Increment(ref Duplicates);
                                }

                                cursor = message.Sequence;
                                await connection.AckAsync(cursor, cancellationToken);
                            }
                            else if (serverEvent is ClosedEvent)
                            {
                                break;
                            }
                        }
                    }
                    catch (IOException)
                    {
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }

                Interlocked.Increment(ref Reconnects);
            }
        }
    }
}
