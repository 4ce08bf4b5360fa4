using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Parley.PeerBench;

/// <summary>W1 (throughput), W2 (latency), W3 (idle connections and logins) and the Parley account set-up.</summary>
internal static class Workloads
{
    private const string StreamConfig = "{\"name\":\"BENCH\",\"subjects\":[\"u.>\"],\"storage\":\"file\",\"num_replicas\":1}";

    /// <summary>
    /// W1: P pairs, each client sends its share of the messages to its partner as fast as a window of
    /// <c>--window</c> undelivered messages allows, until the share is sent or <c>--seconds</c> have passed.
    /// </summary>
    public static async Task<Dictionary<string, object?>> ThroughputAsync(Options options, ServerProcess server, CancellationToken cancellationToken)
    {
        var pairs = options.Int("pairs", 100);
        var total = options.Long("messages", 200_000);
        var perClient = (int)Math.Max(1, total / (2 * pairs));
        var cap = TimeSpan.FromSeconds(options.Int("seconds", 60));
        var window = options.Int("window", 64);
        var size = options.Int("size", 100);

        await using var run = await Run.ConnectPairsAsync(options, pairs, window, cancellationToken);
        var cpuBefore = server.CpuMicroseconds();
        server.StartSampling();
        var clock = Stopwatch.StartNew();
        var sent = new long[run.Clients.Length];
        var senders = run.Clients.Select((client, i) => Task.Run(async () =>
        {
            var slots = run.Windows[i];
            while (sent[i] < perClient && clock.Elapsed < cap)
            {
                await slots.WaitAsync(cancellationToken);
                var n = 1;
                while (n < perClient - sent[i] && slots.Wait(0))
                {
                    n++;
                }

                await client.SendAsync(n, size, cancellationToken);
                sent[i] += n;
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(senders);
        var sendSeconds = clock.Elapsed.TotalSeconds;
        var totalSent = sent.Sum();
        var drained = await run.DrainAsync(totalSent, TimeSpan.FromSeconds(15), cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = server.CpuMicroseconds() - cpuBefore;
        var threads = server.ThreadShares();
        await server.StopSamplingAsync();
        var delivered = run.Delivered;
        return new Dictionary<string, object?>
        {
            ["pairs"] = pairs,
            ["window"] = window,
            ["size"] = size,
            ["target_messages"] = 2L * pairs * perClient,
            ["time_cap_s"] = cap.TotalSeconds,
            ["capped"] = totalSent < 2L * pairs * perClient,
            ["sent"] = totalSent,
            ["delivered"] = delivered,
            ["lost"] = totalSent - delivered,
            ["acked"] = run.Acknowledges ? run.Acknowledged : null,
            ["unacked"] = run.Acknowledges ? totalSent - run.Acknowledged : null,
            ["refused"] = run.Refused,
            ["drained"] = drained,
            ["seconds"] = seconds,
            ["send_seconds"] = sendSeconds,
            ["msgs_per_s"] = delivered / seconds,
            ["server_cpu_us_per_msg"] = cpu / Math.Max(1, delivered),
            ["server_cpu_cores"] = cpu / 1e6 / seconds,
            ["server_rss_peak_mib"] = server.PeakRss / 1048576.0,
            ["server_threads"] = threads,
        };
    }

    /// <summary>W2: P pairs, each client sends one timestamped message every <c>--interval-ms</c> for <c>--duration</c> seconds.</summary>
    public static async Task<Dictionary<string, object?>> LatencyAsync(Options options, ServerProcess server, CancellationToken cancellationToken)
    {
        var pairs = options.Int("pairs", 100);
        var interval = TimeSpan.FromMilliseconds(options.Int("interval-ms", 10));
        var duration = TimeSpan.FromSeconds(options.Int("duration", 10));
        var window = options.Int("window", 64);
        var size = options.Int("size", 100);

        await using var run = await Run.ConnectPairsAsync(options, pairs, window, cancellationToken);
        var latencies = run.Clients.Select(_ => new List<long>(1 + (int)(duration / interval))).ToArray();
        // --trace FILE: each delivered message's send time and latency (WriteTraceAsync), to see whether the slow ones come
        // together (a pause somewhere) or are spread (queueing).
        var trace = options.Has("trace") ? run.Clients.Select(_ => new List<long>(1 + (int)(duration / interval))).ToArray() : null;
        for (var i = 0; i < run.Clients.Length; i++)
        {
            run.Clients[i].Latencies = latencies[i];
            run.Clients[i].SendStamps = trace?[i];
        }

        var start = Stopwatch.GetTimestamp();
        var startUtc = DateTime.UtcNow;

        var cpuBefore = server.CpuMicroseconds();
        var clock = Stopwatch.StartNew();
        var sent = new long[run.Clients.Length];
        var senders = run.Clients.Select((client, i) => Task.Run(async () =>
        {
            // Spread the clients' ticks over the interval instead of all firing together.
            await Task.Delay(TimeSpan.FromTicks(interval.Ticks * i / run.Clients.Length), cancellationToken);
            using var timer = new PeriodicTimer(interval);
            while (clock.Elapsed < duration && await timer.WaitForNextTickAsync(cancellationToken))
            {
                await run.Windows[i].WaitAsync(cancellationToken);
                await client.SendAsync(1, size, cancellationToken);
                sent[i]++;
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(senders);
        var totalSent = sent.Sum();
        var drained = await run.DrainAsync(totalSent, TimeSpan.FromSeconds(15), cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = server.CpuMicroseconds() - cpuBefore;
        var all = latencies.SelectMany(list => list).Order().ToArray();
        if (trace is not null)
        {
            await WriteTraceAsync(options.Get("trace"), start, startUtc, trace, latencies, cancellationToken);
        }

        return new Dictionary<string, object?>
        {
            ["pairs"] = pairs,
            ["interval_ms"] = interval.TotalMilliseconds,
            ["duration_s"] = duration.TotalSeconds,
            ["sent"] = totalSent,
            ["delivered"] = run.Delivered,
            ["lost"] = totalSent - run.Delivered,
            ["acked"] = run.Acknowledges ? run.Acknowledged : null,
            ["drained"] = drained,
            ["offered_msgs_per_s"] = totalSent / duration.TotalSeconds,
            ["p50_ms"] = Percentile(all, 50),
            ["p99_ms"] = Percentile(all, 99),
            ["p999_ms"] = Percentile(all, 99.9),
            ["max_ms"] = Percentile(all, 100),
            ["server_cpu_us_per_msg"] = cpu / Math.Max(1, run.Delivered),
            ["seconds"] = seconds,
        };
    }

    /// <summary>
    /// W3: opens and logs in C connections, at most <c>--in-flight</c> logins at a time (default 64: a new one starts
    /// as one finishes), and measures the server's RSS growth per connection and the logins a second. For Parley the login is a RESUME
    /// with the account's token over a new TLS connection, then SYNC (the "reconnect with a resume token" figure);
    /// with <c>--password</c> it is a LOGIN with the password (Argon2id).
    /// </summary>
    public static async Task<Dictionary<string, object?>> IdleAsync(Options options, ServerProcess server, CancellationToken cancellationToken)
    {
        var count = options.Int("connections", 1000);
        // A window, not bursts: 500 simultaneous connects overflowed mosquitto's listen backlog of 100 (and ngIRCd's
        // of 10), and the kernel's SYN retransmissions a second later then measured the backlog, not the logins
        // (docs/performance.md, "What changed in session 8"). 64 fits every backlog here but ngIRCd's.
        var inFlight = options.Int("in-flight", 64);
        var password = options.Flag("password");
        var tokens = options.System == "parley" ? Tokens.Load(options.Get("tokens")) : null;
        var clients = new BenchClient[count];
        var endPoint = options.EndPoint;

        // Warm-up (JIT in this process and the server's): open and close up to --warmup connections (default 500),
        // unmeasured. With 100, a fresh .NET server still spent a quarter of the measured logins' CPU in the JIT (perf,
        // docs/performance.md): a figure about start-up, not about logins. Same for every system.
        var warm = new BenchClient[Math.Min(password ? 10 : options.Int("warmup", 500), count)];
        var warmFailed = 0;
        try
        {
            using var window = new SemaphoreSlim(inFlight);
            await Task.WhenAll(warm.Select(async (_, i) =>
            {
                await window.WaitAsync(cancellationToken);
                try
                {
                    warm[i] = Run.CreateClient(options, i, i, tokens, password ? new ParleyCredentials("pw", Tokens.Password, null) : null, prefix: "w");
                    if (await LogInAsync(options, warm[i], cancellationToken) is not null)
                    {
                        Interlocked.Increment(ref warmFailed);
                    }
                }
                finally
                {
                    window.Release();
                }
            }));
        }
        finally
        {
            await Run.DisposeAllAsync(warm);
            foreach (var client in warm.OfType<ParleyClient>().Where(client => client.NewToken is not null && !password))
            {
                tokens!.Set(client.Self, client.NewToken!);
            }
        }

        await SettleAsync();
        var rssBefore = server.Rss();
        var cold = await OpenAllAsync(options, clients, inFlight, tokens, password, server, "i", cancellationToken);
        await SettleAsync();
        var rssAfter = server.Rss();
        var open = count - cold.Failed;
        try
        {
            // --hold S keeps the connections open S seconds more, e.g. to take a heap snapshot of the server
            // (dotnet-gcdump collect -p PID) while they are idle (docs/performance.md, W3).
            if (options.Int("hold", 0) is var hold and > 0)
            {
                Console.Error.WriteLine($"holding {open} connections for {hold} s");
                await Task.Delay(TimeSpan.FromSeconds(hold), cancellationToken);
            }
        }
        finally
        {
            await CloseAllAsync(clients, tokens, password);
        }

        // The login rate is measured again once every connection of the first pass is closed: the first pass on a fresh
        // .NET server still spends about 40 % of its CPU in the JIT (perf; a start-up cost, not a login cost), while its
        // memory figure needs the fresh server. Same for every system; the first pass's rate is reported too.
        var second = cold;
        if (!password && !options.Flag("no-warm-pass"))
        {
            await SettleAsync();
            clients = new BenchClient[count];
            try
            {
                // New names for the peers (an IRC server may still hold the first pass's nicks); Parley resumes the same accounts.
                second = await OpenAllAsync(options, clients, inFlight, tokens, password, server, "j", cancellationToken);
            }
            finally
            {
                await CloseAllAsync(clients, tokens, password);
            }
        }

        return new Dictionary<string, object?>
        {
            ["connections"] = count,
            ["in_flight"] = inFlight,
            ["login"] = options.System == "parley" ? (password ? "LOGIN (password, Argon2id) over TLS" : "RESUME (token) over TLS")
                : options.System.EndsWith("-tls", StringComparison.Ordinal) ? "plain login over TLS" : "plain login",
            ["failed"] = cold.Failed + (ReferenceEquals(second, cold) ? 0 : second.Failed),
            ["warmup_failed"] = warmFailed,
            ["first_failure"] = cold.FirstFailure ?? second.FirstFailure,
            ["seconds"] = second.Seconds,
            ["logins_per_s"] = (count - second.Failed) / second.Seconds,
            ["server_cpu_us_per_login"] = second.Cpu / Math.Max(1, count - second.Failed),
            ["fresh_logins_per_s"] = open / cold.Seconds,
            ["fresh_server_cpu_us_per_login"] = cold.Cpu / Math.Max(1, open),
            ["rss_before_mib"] = rssBefore / 1048576.0,
            ["rss_after_mib"] = rssAfter / 1048576.0,
            ["kib_per_conn"] = (rssAfter - rssBefore) / 1024.0 / Math.Max(1, open),
        };
    }

    /// <summary>
    /// Connects and logs in one W3 client within <c>--login-timeout</c> seconds (default 20); null on success, else why
    /// it failed. A login that hangs counts as failed instead of holding up the pass: ngIRCd's short listen backlog
    /// overflows even under 64 connects in flight (thousands of ListenOverflows in nstat), and a connection whose
    /// handshake the kernel dropped can wait minutes for retransmissions.
    /// </summary>
    private static async Task<string?> LogInAsync(Options options, BenchClient client, CancellationToken cancellationToken)
    {
        var limit = TimeSpan.FromSeconds(options.Int("login-timeout", 20));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            await client.ConnectAsync(options.EndPoint, deadline.Token);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no login within {limit.TotalSeconds} s";
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return exception.Message;
        }
    }

    /// <summary>One pass of W3: opens and logs in every client, at most <paramref name="inFlight"/> at a time; the time and server CPU it took.</summary>
    private static async Task<LoginPass> OpenAllAsync(Options options, BenchClient[] clients, int inFlight, Tokens? tokens, bool password,
        ServerProcess server, string prefix, CancellationToken cancellationToken)
    {
        var failed = 0;
        string? firstFailure = null;
        using var window = new SemaphoreSlim(inFlight);
        var cpuBefore = server.CpuMicroseconds();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients.Length).Select(async i =>
        {
            await window.WaitAsync(cancellationToken);
            try
            {
                var client = Run.CreateClient(options, i, i, tokens, password ? new ParleyCredentials("pw", Tokens.Password, null) : null, prefix);
                clients[i] = client;
                if (await LogInAsync(options, client, cancellationToken) is { } failure && Interlocked.Increment(ref failed) == 1)
                {
                    firstFailure = failure;
                }
            }
            finally
            {
                window.Release();
            }
        }));

        return new LoginPass(clock.Elapsed.TotalSeconds, server.CpuMicroseconds() - cpuBefore, failed, firstFailure);
    }

    /// <summary>Closes a pass's clients and keeps the tokens the server rotated (the next RESUME needs them).</summary>
    private static async Task CloseAllAsync(BenchClient[] clients, Tokens? tokens, bool password)
    {
        await Run.DisposeAllAsync(clients);
        if (tokens is not null)
        {
            foreach (var client in clients.OfType<ParleyClient>().Where(client => client.NewToken is not null && !password))
            {
                tokens.Set(client.Self, client.NewToken!);
            }

            tokens.Save();
        }
    }

    /// <summary>Registers Parley accounts pb0..pb(N-1) (skipping those that already have a token), 32 at a time.</summary>
    public static async Task<Dictionary<string, object?>> RegisterAsync(Options options, CancellationToken cancellationToken)
    {
        var count = options.Int("count", 2000);
        var tokens = Tokens.Load(options.Get("tokens"));
        var todo = Enumerable.Range(0, count).Where(i => tokens.Get(Tokens.User(i)) is null).ToArray();
        var clock = Stopwatch.StartNew();
        try
        {
            foreach (var chunk in todo.Chunk(32))
            {
                var clients = chunk.Select(i => Run.CreateClient(options, i, i, tokens, new ParleyCredentials(Tokens.Device, Tokens.Password, null, Register: true), "")).ToArray();
                try
                {
                    await Task.WhenAll(clients.Select(client => client.ConnectAsync(options.EndPoint, cancellationToken)));
                }
                finally
                {
                    foreach (var client in clients.OfType<ParleyClient>().Where(client => client.NewToken is not null))
                    {
                        tokens.Set(client.Self, client.NewToken!);
                    }

                    await Run.DisposeAllAsync(clients);
                }
            }
        }
        finally
        {
            tokens.Save();
        }

        return new Dictionary<string, object?>
        {
            ["registered"] = todo.Length,
            ["accounts"] = tokens.Count,
            ["seconds"] = clock.Elapsed.TotalSeconds,
            ["registrations_per_s"] = todo.Length / clock.Elapsed.TotalSeconds,
        };
    }

    /// <summary>Creates the JetStream stream on u.&gt; (file storage, 1 replica); an existing identical stream is fine.</summary>
    public static async Task EnsureStreamAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        await using var setup = new NatsClient("setup", "setup", jetStream: true);
        await setup.ConnectAsync(endPoint, cancellationToken);
        var reply = await setup.RequestAsync("$JS.API.STREAM.CREATE.BENCH", StreamConfig, cancellationToken);
        if (reply.Contains("\"error\"", StringComparison.Ordinal) && !reply.Contains("already in use", StringComparison.Ordinal))
        {
            throw new IOException("JetStream stream creation failed: " + reply);
        }
    }

    /// <summary>
    /// W2's <c>--trace</c>: a header with the run's start (UTC, to line it up with the server's own records), then one line a
    /// delivered message, "ms after the start it was sent" and "its one-way latency in ms", in the order they were sent.
    /// </summary>
    private static async Task WriteTraceAsync(string path, long start, DateTime startUtc, List<long>[] stamps, List<long>[] latencies, CancellationToken cancellationToken)
    {
        var lines = new List<(double Sent, double Latency)>();
        for (var i = 0; i < stamps.Length; i++)
        {
            for (var k = 0; k < stamps[i].Count; k++)
            {
                lines.Add(((stamps[i][k] - start) * 1000.0 / Stopwatch.Frequency, latencies[i][k] * 1000.0 / Stopwatch.Frequency));
            }
        }

        var header = string.Create(CultureInfo.InvariantCulture, $"# sent_ms latency_ms; the run started at {startUtc:O}");
        await File.WriteAllLinesAsync(path, lines.OrderBy(line => line.Sent)
            .Select(line => string.Create(CultureInfo.InvariantCulture, $"{line.Sent:F3} {line.Latency:F3}")).Prepend(header), cancellationToken);
    }

    private static double Percentile(long[] sorted, double percentile)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var index = (int)Math.Min(sorted.Length - 1, Math.Ceiling(percentile / 100 * sorted.Length) - 1);
        return sorted[Math.Max(0, index)] * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary>Lets the server finish closing the previous run's connections and collect garbage before a baseline.</summary>
    private static Task SettleAsync() => Task.Delay(TimeSpan.FromSeconds(2));
}

/// <summary>The clients of one W1 or W2 run: 2P clients, client 2k and 2k+1 partners, a window per sender.</summary>
internal sealed class Run : IAsyncDisposable
{
    private readonly Tokens? _tokens;

    private Run(BenchClient[] clients, SemaphoreSlim[] windows, Tokens? tokens)
    {
        Clients = clients;
        Windows = windows;
        _tokens = tokens;
    }

    public BenchClient[] Clients { get; }

    /// <summary>Each client's own send window (released by its partner's deliveries).</summary>
    public SemaphoreSlim[] Windows { get; }

    public long Delivered => Clients.Sum(client => client.Delivered);

    public long Acknowledged => Clients.Sum(client => client.Acknowledged);

    public long Refused => Clients.Sum(client => client.Refused);

    public bool Acknowledges => Clients.Length > 0 && Clients[0].Acknowledges;

    public static async Task<Run> ConnectPairsAsync(Options options, int pairs, int window, CancellationToken cancellationToken)
    {
        if (options.System == "jetstream")
        {
            await Workloads.EnsureStreamAsync(options.EndPoint, cancellationToken);
        }

        var tokens = options.System == "parley" ? Tokens.Load(options.Get("tokens")) : null;
        var clients = new BenchClient[2 * pairs];
        var windows = new SemaphoreSlim[2 * pairs];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = CreateClient(options, i, i ^ 1, tokens, null, prefix: options.Get("prefix", "c"));
            windows[i] = new SemaphoreSlim(window);
        }

        for (var i = 0; i < clients.Length; i++)
        {
            clients[i].PartnerWindow = windows[i ^ 1];
        }

        var run = new Run(clients, windows, tokens);
        try
        {
            using var gate = new SemaphoreSlim(options.Int("batch", 100));
            await Task.WhenAll(clients.Select(async client =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    await client.ConnectAsync(options.EndPoint, cancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }

        return run;
    }

    public static BenchClient CreateClient(Options options, int index, int partnerIndex, Tokens? tokens, ParleyCredentials? credentials, string prefix)
    {
        string Name(int i) => prefix + i.ToString(CultureInfo.InvariantCulture);
        return options.System switch
        {
            "parley" => new ParleyClient(Tokens.User(index), Tokens.User(partnerIndex),
                credentials ?? new ParleyCredentials(Tokens.Device, null, tokens!.Get(Tokens.User(index))
                    ?? throw new InvalidOperationException($"no token for {Tokens.User(index)}: run parley-register first")))
            {
                TlsFingerprint = options.Get("fingerprint"),
            },
            "nats" => new NatsClient(Name(index), Name(partnerIndex), jetStream: false),
            "jetstream" => new NatsClient(Name(index), Name(partnerIndex), jetStream: true),
            "irc" => new IrcClient(Name(index), Name(partnerIndex)),
            "mqtt" => new MqttClient(Name(index), Name(partnerIndex)),
            // The same peers behind their own TLS listeners (compare.sh gives them one ECDSA P-256 key, as Parley's).
            "irc-tls" => new IrcClient(Name(index), Name(partnerIndex)) { TlsFingerprint = options.Get("fingerprint") },
            "mqtt-tls" => new MqttClient(Name(index), Name(partnerIndex)) { TlsFingerprint = options.Get("fingerprint") },
            // The floor under Parley's network path: bench/Parley.TlsRelay, an MQTT QoS 0 relay in .NET with no store.
            "dotnet" => new MqttClient(Name(index), Name(partnerIndex)),
            "dotnet-tls" => new MqttClient(Name(index), Name(partnerIndex)) { TlsFingerprint = options.Get("fingerprint") },
            _ => throw new ArgumentException($"unknown system {options.System}"),
        };
    }

    public static async Task DisposeAllAsync(IEnumerable<BenchClient?> clients) =>
        await Task.WhenAll(clients.Where(client => client is not null).Select(client => client!.DisposeAsync().AsTask()));

    /// <summary>Waits until every sent message is delivered (and acknowledged, where the protocol does) or the timeout passes.</summary>
    public async Task<bool> DrainAsync(long sent, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (Delivered < sent || (Acknowledges && Acknowledged + Refused < sent))
        {
            if (clock.Elapsed > timeout || Clients.Any(client => client.Completion.IsCompleted))
            {
                return false;
            }

            await Task.Delay(1, cancellationToken);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeAllAsync(Clients);
        foreach (var window in Windows)
        {
            window.Dispose();
        }

        if (_tokens is not null)
        {
            foreach (var client in Clients.OfType<ParleyClient>().Where(client => client.NewToken is not null))
            {
                _tokens.Set(client.Self, client.NewToken!);
            }

            _tokens.Save();
        }
    }
}
