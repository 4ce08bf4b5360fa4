using System.Globalization;
using System.Text.Json;
using Parley.PeerBench;

// Usage (bench/compare.sh drives it; see bench/README.md):
//   PeerBench w1|w2|w3 --system parley|nats|jetstream|irc|mqtt --port N --pid SERVER_PID [--out results.jsonl] [options]
//   PeerBench register --system parley --port N --fingerprint F --tokens FILE --count N
//   PeerBench table --results results.jsonl [--w4 filebench.txt]
//   PeerBench free-port
//   PeerBench tls-key --dir DIR   (writes DIR/cert.pem and DIR/key.pem, prints the fingerprint to pin)
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: PeerBench w1|w2|w3|register|table --option value ... (bench/README.md)");
    return 2;
}

var command = args[0];
var options = new Options(args.Skip(1));
if (command == "free-port")
{
    // A port that was free a moment ago, for compare.sh to give a server.
    using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    Console.WriteLine(((System.Net.IPEndPoint)listener.LocalEndpoint).Port);
    return 0;
}

if (command == "tls-key")
{
    // A key and certificate for a peer's TLS listener (the "-tls" systems), of the kind Parley's server makes: ECDSA
    // P-256, self-signed. Prints the fingerprint the bench clients pin, as Parley's clients pin Parley's key.
    Console.WriteLine(PeerTlsKey.Write(options.Get("dir")));
    return 0;
}

if (command == "table")
{
    Console.Write(Table.Render(options.Get("results"), options.Get("w4", "")));
    return 0;
}

// Every run is bounded: the whole command is cancelled after --timeout seconds (default 300).
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Int("timeout", 300)));
Dictionary<string, object?> result;
try
{
    if (command == "register")
    {
        result = await Workloads.RegisterAsync(options, timeout.Token);
    }
    else
    {
        var server = new ServerProcess(options.Int("pid", 0));
        result = command switch
        {
            "w1" => await Workloads.ThroughputAsync(options, server, timeout.Token),
            "w2" => await Workloads.LatencyAsync(options, server, timeout.Token),
            "w3" => await Workloads.IdleAsync(options, server, timeout.Token),
            _ => throw new ArgumentException($"unknown command {command}"),
        };
    }
}
catch (OperationCanceledException) when (timeout.IsCancellationRequested)
{
    Console.Error.WriteLine($"peerbench: {command} timed out after {options.Int("timeout", 300)} s");
    return 2;
}

var row = new Dictionary<string, object?>
{
    ["workload"] = options.Get("label", command),
    ["system"] = options.Get("system", "parley"),
    ["time_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
};
foreach (var (key, value) in result)
{
    row[key] = value is double d ? Math.Round(d, 3) : value;
}

var line = JsonSerializer.Serialize(row);
Console.WriteLine(line);
if (options.Get("out", "") is { Length: > 0 } path)
{
    await File.AppendAllTextAsync(path, line + "\n");
}

return 0;
