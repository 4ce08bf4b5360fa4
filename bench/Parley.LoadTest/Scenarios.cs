using System.Diagnostics;
using System.Globalization;
using Parley.Client;
using Parley.Protocol;

namespace Parley.LoadTest;

/// <summary>
/// The three measurements. Each sends from one connection of one user to one other user, so what is measured is one
/// sender's path through TLS, the server's read loop, the store's group commit (fsync included) and back.
/// </summary>
internal static class Scenarios
{
    public const string Sender = "load-alice";
    public const string Recipient = "load-bob";
    public const string Password = "load test password";
    public const string SenderDevice = "load-sender";
    public const string RecipientDevice = "load-recipient";

    /// <summary>Characters of the Stopwatch timestamp at the start of an end-to-end message's text.</summary>
    private const int StampDigits = 20;

    /// <summary>Unmeasured traffic before the measurements: JIT, tiering, SQLite page cache, TLS buffers.</summary>
    public static Task WarmupAsync(ParleyConnection sender, LoadTestOptions options, CancellationToken cancellationToken)
    {
        var text = Filler(options.TextBytes);
        return SendWindowedAsync(sender, options.WarmupMessages, options.Window, () => text, latencies: null, cancellationToken);
    }

    /// <summary>(a) Send, wait for SEND_OK, repeat: the latency of one durable acknowledgement, and the rate it allows.</summary>
    public static async Task<ScenarioResult> SingleAsync(ParleyConnection sender, LoadTestOptions options, CancellationToken cancellationToken)
    {
        var count = options.SingleMessages;
        var text = Filler(options.TextBytes);
        var latencies = new Latencies(count);
        var cpu = CpuClock.Start();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            await sender.SendAsync(MessageId.NewTimeOrdered(), Recipient, text, cancellationToken);
            latencies.Set(i, Stopwatch.GetTimestamp() - sent);
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new ScenarioResult("(a) acknowledged, window 1", "SEND_OK", count, 1, seconds, count / seconds,
            latencies.PercentileMs(50), latencies.PercentileMs(99), cpu.MicrosPer(count));
    }

    /// <summary>(b) Keep a window of sends in flight: the acknowledged throughput that group commit makes possible.</summary>
    public static async Task<ScenarioResult> WindowedAsync(ParleyConnection sender, LoadTestOptions options, CancellationToken cancellationToken)
    {
        var count = options.WindowedMessages;
        var text = Filler(options.TextBytes);
        var latencies = new Latencies(count);
        var cpu = CpuClock.Start();
        var start = Stopwatch.GetTimestamp();
        await SendWindowedAsync(sender, count, options.Window, () => text, latencies, cancellationToken);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new ScenarioResult($"(b) acknowledged, window {options.Window}", "SEND_OK", count, options.Window, seconds, count / seconds,
            latencies.PercentileMs(50), latencies.PercentileMs(99), cpu.MicrosPer(count));
    }

    /// <summary>
    /// (c) The recipient is online (logged in, SYNCed to its head, acknowledging after each burst as DeviceSession
    /// does) while the sender keeps a window in flight. Each text starts with the Stopwatch timestamp taken just
    /// before its SendAsync, so the recipient measures send-to-delivery latency on the same clock.
    /// </summary>
    public static async Task<ScenarioResult> EndToEndAsync(LoadServer server, ParleyConnection sender, LoadTestOptions options,
        CancellationToken cancellationToken)
    {
        var count = options.EndToEndMessages;
        await using var recipient = await server.ConnectRecipientAsync(cancellationToken);
        var auth = await recipient.LoginAsync(Recipient, Password, RecipientDevice, cancellationToken);
        // From the current head: what (a) and (b) left in the log is not part of this measurement.
        await recipient.SyncAsync(auth.Head, cancellationToken);
        await WaitForSyncedAsync(recipient, cancellationToken);

        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var latencies = new Latencies(count);
        var cpu = CpuClock.Start();
        var start = Stopwatch.GetTimestamp();
        var receive = ReceiveAsync(recipient, count, latencies, failed.Token);
        var send = SendWindowedAsync(sender, count, options.Window, () => Stamped(options.TextBytes), latencies: null, failed.Token);
        // Whichever side fails first stops the other, so the first exception is the one reported.
        var first = await Task.WhenAny(send, receive);
        if (first.IsFaulted || first.IsCanceled)
        {
            await failed.CancelAsync();
            await first;
        }

        await send;
        var sendSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var lastDelivered = await receive;
        var seconds = Stopwatch.GetElapsedTime(start, lastDelivered).TotalSeconds;
        return new ScenarioResult($"(c) delivered end to end, window {options.Window}", "DELIVER", count, options.Window, seconds, count / seconds,
            latencies.PercentileMs(50), latencies.PercentileMs(99), cpu.MicrosPer(count))
        {
            SenderAckRate = count / sendSeconds,
        };
    }

    /// <summary>
    /// Sends <paramref name="count"/> messages with at most <paramref name="window"/> awaiting SEND_OK, as a client
    /// that pipelines would. The text is made per message, right before its send.
    /// </summary>
    private static async Task SendWindowedAsync(ParleyConnection sender, int count, int window, Func<string> text, Latencies? latencies,
        CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(window);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sends = new List<Task>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                await slots.WaitAsync(failed.Token);
                sends.Add(SendOneAsync(i));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A send failed and cancelled the loop; its exception is the one to report, below.
        }

        await Task.WhenAll(sends);

        async Task SendOneAsync(int index)
        {
            try
            {
                var sent = Stopwatch.GetTimestamp();
                await sender.SendAsync(MessageId.NewTimeOrdered(), Recipient, text(), cancellationToken);
                latencies?.Set(index, Stopwatch.GetTimestamp() - sent);
            }
            catch
            {
                await failed.CancelAsync();
                throw;
            }
            finally
            {
                slots.Release();
            }
        }
    }

    /// <summary>Reads DELIVERs until <paramref name="count"/> arrived; returns the Stopwatch timestamp of the last one.</summary>
    private static async Task<long> ReceiveAsync(ParleyConnection recipient, int count, Latencies latencies, CancellationToken cancellationToken)
    {
        var received = 0;
        ulong last = 0;
        ulong acknowledged = 0;
        var lastArrival = 0L;
        var events = recipient.Events;
        while (received < count && await events.WaitToReadAsync(cancellationToken))
        {
            while (received < count && events.TryRead(out var serverEvent))
            {
                switch (serverEvent)
                {
                    case MessageEvent { Message: { From: Sender } message }:
                        lastArrival = Stopwatch.GetTimestamp();
                        latencies.Set(received++, lastArrival - ParseStamp(message.Text));
                        last = message.Sequence;
                        break;
                    case ClosedEvent closed:
                        throw new IOException($"the recipient's connection closed after {received} of {count} messages: {closed}");
                }
            }

            // Acknowledge once per burst, when nothing more is waiting, as DeviceSession does: one ACK per message
            // would be a store write per message.
            if (last > acknowledged && !events.TryPeek(out _))
            {
                await recipient.AckAsync(last, cancellationToken);
                acknowledged = last;
            }
        }

        if (received < count)
        {
            throw new IOException($"the recipient's events ended after {received} of {count} messages");
        }

        return lastArrival;
    }

    /// <summary>Reads <paramref name="connection"/>'s events up to SYNCED; a close before it throws.</summary>
    internal static async Task WaitForSyncedAsync(ParleyConnection connection, CancellationToken cancellationToken)
    {
        await foreach (var serverEvent in connection.Events.ReadAllAsync(cancellationToken))
        {
            switch (serverEvent)
            {
                case SyncedEvent:
                    return;
                case ClosedEvent closed:
                    throw new IOException($"the connection closed before SYNCED: {closed}");
            }
        }

        throw new IOException("the events ended before SYNCED");
    }

    /// <summary>ASCII text of exactly <paramref name="bytes"/> bytes.</summary>
    private static string Filler(int bytes) => new('m', bytes);

    /// <summary>The current Stopwatch timestamp in <see cref="StampDigits"/> digits, then filler up to <paramref name="bytes"/>.</summary>
    private static string Stamped(int bytes) =>
        Stopwatch.GetTimestamp().ToString("D" + StampDigits, CultureInfo.InvariantCulture).PadRight(bytes, 'm');

    private static long ParseStamp(string text) => long.Parse(text.AsSpan(0, StampDigits), NumberStyles.None, CultureInfo.InvariantCulture);
}
