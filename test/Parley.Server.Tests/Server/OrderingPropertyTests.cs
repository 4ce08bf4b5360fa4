using CsCheck;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>
/// security.md 23: several senders write to one recipient concurrently while the recipient drops and resumes its
/// connection at random points, acknowledging some of what it saw. Whatever the interleaving: every acknowledged
/// send arrives, nothing else does, and after deduplication by id the recipient's sequence numbers strictly increase.
/// </summary>
public sealed class OrderingPropertyTests
{
    /// <summary>
    /// One run: messages per sender, reconnect points (as a share of all messages received so far, in percent), and
    /// what the recipient acknowledges before each disconnect (0 nothing, 1 the last entry it saw, 2 one in the middle).
    /// </summary>
    private static readonly Gen<(int[] Sends, int[] ReconnectPercents, int[] AckModes)> Scenarios =
        Gen.Select(Gen.Int[1, 12].Array[1, 3], Gen.Int[0, 100].Array[0, 5], Gen.Int[0, 2].Array[5]);

    [Trait("Security", "23")]
    [Fact]
    public async Task Delivery_RandomInterleavingsAndReconnects_OrderedCompleteAndExactlyTheAcknowledgedSends()
    {
        await using var server = await TestServer.StartAsync();
        await Scenarios.SampleAsync((sends, reconnects, ackModes) => RunScenarioAsync(server, sends, reconnects, ackModes),
            iter: 100, threads: 1);
    }

    private static async Task RunScenarioAsync(TestServer server, int[] sends, int[] reconnectPercents, int[] ackModes)
    {
        var recipient = UniqueNames.Next("rcpt");
        var total = sends.Sum();
        var reconnectAt = new Queue<int>(reconnectPercents
            .Select(p => Math.Clamp(p * total / 100, 1, Math.Max(1, total - 1)))
            .Where(n => n < total)
            .Distinct()
            .Order());

        var (connection, auth) = await server.RegisterAsync(recipient, "r");
        var token = auth.Token;
        var senders = new List<(string User, ParleyConnection Connection)>();
        for (var s = 0; s < sends.Length; s++)
        {
            var user = UniqueNames.Next($"s{s}");
            var (senderConnection, _) = await server.RegisterAsync(user);
            senders.Add((user, senderConnection));
        }

        var acknowledgedSends = new List<(string From, int Index, MessageId Id, SendOkFrame Ok)>();
        var sending = Task.WhenAll(senders.Select((sender, s) => Task.Run(async () =>
        {
            for (var k = 0; k < sends[s]; k++)
            {
                var id = MessageId.NewRandom();
                var ok = await sender.Connection.SendAsync(id, recipient, $"{s}:{k}").WaitAsync(Events.Timeout);
                lock (acknowledgedSends)
                {
                    acknowledgedSends.Add((sender.User, k, id, ok));
                }
            }
        })));

        // The recipient: SYNC from what it acknowledged, read, and at each reconnect point ACK (or not), drop, RESUME.
        var received = new List<DeliverFrame>();
        var unique = new HashSet<MessageId>();
        ulong acknowledged = 0;
        var reconnectIndex = 0;
        await connection.SyncAsync(acknowledged).WaitAsync(Events.Timeout);
        var onThisConnection = new List<ulong>();
        var syncedFrom = acknowledged;
        while (unique.Count < total)
        {
            var next = await connection.NextEventAsync();
            if (next is ClosedEvent closed)
            {
                Assert.Fail($"recipient connection closed: {closed.Error?.Code} {closed.Error?.Message}");
            }

            if (next is not MessageEvent { Message: var message })
            {
                continue;
            }

            // On one connection the entries come without gaps, starting right after the SYNC point.
            Assert.Equal(syncedFrom + (ulong)onThisConnection.Count + 1, message.Sequence);
            onThisConnection.Add(message.Sequence);
            received.Add(message);
            unique.Add(message.Id);

            if (reconnectAt.Count > 0 && unique.Count >= reconnectAt.Peek())
            {
                reconnectAt.Dequeue();
                var mode = ackModes[reconnectIndex++ % ackModes.Length];
                var ack = mode switch
                {
                    1 => onThisConnection[^1],
                    2 => onThisConnection[onThisConnection.Count / 2],
                    _ => 0UL,
                };
                if (ack > acknowledged)
                {
                    await connection.AckAsync(ack).WaitAsync(Events.Timeout);
                    acknowledged = ack;
                }

                await connection.DisposeAsync();
                connection = await server.ConnectAsync();
                token = (await connection.ResumeAsync(recipient, token, "r").WaitAsync(Events.Timeout)).Token;
                await connection.SyncAsync(acknowledged).WaitAsync(Events.Timeout);
                onThisConnection.Clear();
                syncedFrom = acknowledged;
            }
        }

        await sending.WaitAsync(Events.Timeout);
        await connection.DisposeAsync();
        foreach (var sender in senders)
        {
            await sender.Connection.DisposeAsync();
        }

        // Deduplicated by id (first arrival kept), the sequence numbers strictly increase and cover the log 1..total.
        var firstArrivals = received.DistinctBy(m => m.Id).ToList();
        Assert.Equal(Enumerable.Range(1, total).Select(i => (ulong)i), firstArrivals.Select(m => m.Sequence));

        // Exactly the acknowledged sends arrived, each from its real sender with its own text.
        Assert.Equal(total, acknowledgedSends.Count);
        Assert.Equal(acknowledgedSends.Select(a => a.Id).ToHashSet(), firstArrivals.Select(m => m.Id).ToHashSet());
        var byId = firstArrivals.ToDictionary(m => m.Id);
        foreach (var sent in acknowledgedSends)
        {
            var arrived = byId[sent.Id];
            Assert.Equal(sent.From, arrived.From);
            Assert.Equal(sent.Ok.Time, arrived.Time);
            Assert.EndsWith($":{sent.Index}", arrived.Text, StringComparison.Ordinal);
        }

        // Each sender sent one message at a time, so its messages keep their order in the recipient's log.
        foreach (var group in acknowledgedSends.GroupBy(a => a.From))
        {
            var sequences = group.OrderBy(a => a.Index).Select(a => byId[a.Id].Sequence).ToList();
            Assert.Equal(sequences.Order(), sequences);
        }

        // Redelivered copies are identical to the first.
        foreach (var copy in received)
        {
            Assert.Equal(byId[copy.Id], copy);
        }
    }
}
