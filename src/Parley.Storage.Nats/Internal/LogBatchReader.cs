using System.Globalization;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Parley.Storage.Nats.Internal;

/// <summary>
/// Reads many messages of one subject of the log stream in a few round trips instead of one request per message:
/// an ephemeral pull consumer filtered on the subject, starting at a sequence, asked once for a batch, then deleted.
/// nats-server 2.9 has no batched direct get and no multi-filter consumers, but a single-filter ephemeral consumer
/// works there. The consumer is created by hand with the classic request form: NATS.Net's create uses the 2.10
/// subject form (filter in the subject), which 2.9 refuses.
/// <para>
/// The consumer may be placed on a replica that lags the stream leader, so a batch is only a prefix of what the
/// leader has: callers confirm the end of the log with a leader-answered get (<c>NatsChatStore.ReadRawAsync</c>).
/// A replica applies the stream in order, so a lagging replica misses a tail, never an entry in the middle.
/// </para>
/// </summary>
internal sealed class LogBatchReader(NatsConnection connection, string apiPrefix, string stream)
{
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long batches are not tried after one failed: the caller reads with leader gets meanwhile.</summary>
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(5);

    private long _pausedUntil;

    /// <summary>
    /// Up to <paramref name="max"/> messages of <paramref name="subject"/> from sequence <paramref name="from"/> on, in
    /// stream order. Fewer (even none) when the consumer's replica has fewer. Null when a consumer cannot be had now
    /// (the meta leader or the chosen replica is gone, as right after a NATS server dies): the caller then reads with
    /// leader gets, which work as soon as the stream has a leader, and batches are not tried again for a few seconds.
    /// </summary>
    public async Task<List<LogMessage>?> ReadAsync(string subject, ulong from, int max, CancellationToken cancellationToken)
    {
        if (Environment.TickCount64 < Volatile.Read(ref _pausedUntil))
        {
            return null;
        }

        try
        {
            return await ReadBatchAsync(subject, from, max, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or TimeoutException or JsonException or KeyNotFoundException
            or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            Volatile.Write(ref _pausedUntil, Environment.TickCount64 + (long)PauseAfterFailure.TotalMilliseconds);
            return null;
        }
    }

    private async Task<List<LogMessage>> ReadBatchAsync(string subject, ulong from, int max, CancellationToken cancellationToken)
    {
        var request = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["stream_name"] = stream,
            ["config"] = new Dictionary<string, object>
            {
                ["filter_subject"] = subject,
                ["deliver_policy"] = "by_start_sequence",
                ["opt_start_seq"] = from,
                ["ack_policy"] = "none",
                ["inactive_threshold"] = 10_000_000_000L,
                ["mem_storage"] = true,
                ["num_replicas"] = 1,
            },
        }, JsonContext.Default.DictionaryStringObject);
        var reply = await connection.RequestAsync<byte[], byte[]>($"{apiPrefix}.CONSUMER.CREATE.{stream}", request,
            replyOpts: new NatsSubOpts { Timeout = CreateTimeout }, cancellationToken: cancellationToken).ConfigureAwait(false);
        string name;
        ulong pending;
        using (var info = JsonDocument.Parse(reply.Data ?? []))
        {
            if (info.RootElement.TryGetProperty("error", out var error))
            {
                throw new NatsJSException($"reading {subject} from {from}: consumer refused: {error}");
            }

            name = info.RootElement.GetProperty("name").GetString()!;
            pending = info.RootElement.GetProperty("num_pending").GetUInt64();
        }

        try
        {
            var wanted = (int)Math.Min((ulong)max, pending);
            return wanted == 0 ? [] : await FetchAsync(name, wanted, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Not awaited by the reader: the consumer would expire on its own (inactive_threshold), deleting it now
            // only frees the server sooner, and waiting for that answer would add a round trip to every read.
            _ = DeleteQuietlyAsync(name);
        }
    }

    private async Task<List<LogMessage>> FetchAsync(string consumer, int wanted, CancellationToken cancellationToken)
    {
        var messages = new List<LogMessage>(wanted);
        // Not connection.NewInbox(): NATS.Net routes subjects under its own inbox prefix through the shared request
        // subscription, which cannot route consumer messages (they arrive on the log subject, not the inbox).
        var inbox = "_PARLEY_READ." + Guid.NewGuid().ToString("N");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(FetchTimeout);
        await using var subscription = await connection.SubscribeCoreAsync<byte[]>(inbox, cancellationToken: deadline.Token).ConfigureAwait(false);
        var pull = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["batch"] = wanted,
            ["no_wait"] = true,
        }, JsonContext.Default.DictionaryStringObject);
        await connection.PublishAsync($"{apiPrefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}", pull, replyTo: inbox,
            cancellationToken: deadline.Token).ConfigureAwait(false);
        try
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync(deadline.Token).ConfigureAwait(false))
            {
                if (message.ReplyTo is not { } ack || message.Subject == inbox)
                {
                    break; // a status message (404 no messages, 408 timeout): the consumer has nothing more
                }

                messages.Add(new LogMessage(message.Subject, StreamSequence(ack), message.Data ?? []));
                if (messages.Count == wanted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // What arrived in time is a valid prefix: the caller goes on with leader-answered gets.
        }

        return messages;
    }

    /// <summary>
    /// The stream sequence from a consumer message's ack subject: <c>$JS.ACK.stream.consumer.delivered.sseq.cseq.ts.pending</c>
    /// (2.9), or the 2.10+ form with domain and account hash before the stream.
    /// </summary>
    internal static ulong StreamSequence(string ackSubject)
    {
        var tokens = ackSubject.Split('.');
        var index = tokens.Length == 9 ? 5 : tokens.Length >= 11 ? 7 : -1;
        if (index < 0 || !ulong.TryParse(tokens[index], NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            throw new NatsJSException($"unexpected JetStream ack subject '{ackSubject}'");
        }

        return seq;
    }

    private async Task DeleteQuietlyAsync(string consumer)
    {
        try
        {
            await connection.RequestAsync<byte[], byte[]>($"{apiPrefix}.CONSUMER.DELETE.{stream}.{consumer}", [],
                cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            // The consumer expires by itself after its inactive threshold.
        }
    }
}
