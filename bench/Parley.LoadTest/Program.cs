using System.Diagnostics;
using System.Globalization;
using Parley.LoadTest;

var options = LoadTestOptions.Parse(args, Console.Error);
if (options is null)
{
    return args.Contains("--help") || args.Contains("-h") ? 0 : 64;
}

#if DEBUG
// Debug builds are several times slower on this path; a figure from one must never be mistaken for the real one.
Console.Error.WriteLine("warning: this is a Debug build; measure with `dotnet run -c Release`.");
#endif

using var deadline = new CancellationTokenSource(options.Timeout);
var rounds = new List<IReadOnlyList<ScenarioResult>>();
var total = Stopwatch.StartNew();
Console.WriteLine($"# Parley load test, {DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}");
Console.WriteLine();
Console.WriteLine($"- Machine: {MachineInfo.Describe()}");
Console.WriteLine($"- Load average at start: {MachineInfo.LoadAverage}");
Console.WriteLine(options.Nats is null
    ? $"- Durability: {Report.FsyncPolicy} (one writer thread, up to 512 operations per transaction; SEND_OK only after the commit)"
    : $"- Cluster mode: NATS JetStream at {options.Nats} (SEND_OK after the PubAcks of both copies; nats-server's default lazy fsync); (c)'s recipient on a second node; CPU counts this process only, not nats-server");
Console.WriteLine($"- Server in-process on 127.0.0.1, TLS with the key pinned; client library ParleyConnection; text {options.TextBytes} bytes; " +
    $"{options.WarmupMessages} warm-up messages per round; store quota {options.MaxUnacknowledged:N0} unacknowledged per recipient");
Console.WriteLine();

try
{
    for (var round = 1; round <= options.Repeat; round++)
    {
        await using var server = await LoadServer.StartAsync(options, deadline.Token);
        await using var sender = await server.ConnectAsync(deadline.Token);
        await sender.RegisterAsync(Scenarios.Sender, Scenarios.Password, Scenarios.SenderDevice, deadline.Token);
        await using (var recipient = await server.ConnectAsync(deadline.Token))
        {
            // The recipient only needs to exist for (a) and (b); it comes online in (c).
            await recipient.RegisterAsync(Scenarios.Recipient, Scenarios.Password, Scenarios.RecipientDevice, deadline.Token);
        }

        await Scenarios.WarmupAsync(sender, options, deadline.Token);
        var results = new List<ScenarioResult>();
        if (options.SingleMessages > 0)
        {
            results.Add(await Scenarios.SingleAsync(sender, options, deadline.Token));
        }

        if (options.WindowedMessages > 0)
        {
            results.Add(await Scenarios.WindowedAsync(sender, options, deadline.Token));
        }

        if (options.EndToEndMessages > 0)
        {
            results.Add(await Scenarios.EndToEndAsync(server, sender, options, deadline.Token));
        }

        rounds.Add(results);
        Console.WriteLine($"## Round {round} of {options.Repeat} (TLS {sender.TlsProtocol}, store {(options.Nats is null ? server.DatabasePath : "NATS " + options.Nats)})");
        Console.WriteLine();
        Console.WriteLine(Report.Table(results));
        if (options.Reconnects > 0)
        {
            Console.WriteLine(await ReconnectScenario.RunAsync(server, options, deadline.Token));
            Console.WriteLine();
        }
    }
}
catch (OperationCanceledException) when (deadline.IsCancellationRequested)
{
    Console.Error.WriteLine($"aborted: the run exceeded its time limit of {options.Timeout.TotalSeconds:F0} s after {rounds.Count} complete round(s)");
    return 2;
}

if (rounds.Count > 1)
{
    Console.WriteLine($"## Median of {rounds.Count} rounds");
    Console.WriteLine();
    Console.WriteLine(Report.Table(Report.Medians(rounds)));
}

Console.WriteLine($"Total run time {total.Elapsed.TotalSeconds:F0} s; load average at end: {MachineInfo.LoadAverage}");
return 0;
