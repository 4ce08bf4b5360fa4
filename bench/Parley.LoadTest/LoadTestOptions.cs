using System.Globalization;

namespace Parley.LoadTest;

/// <summary>
/// What to run, from the command line. Every count is bounded and the whole run has a deadline, so a hung server
/// or a regression that makes acknowledgements stop cannot keep a CI box busy forever.
/// </summary>
internal sealed record LoadTestOptions
{
    /// <summary>Messages in scenario (a): one at a time, each waiting for its SEND_OK.</summary>
    public int SingleMessages { get; init; } = 2_000;

    /// <summary>Messages in scenario (b): one sender with <see cref="Window"/> sends in flight.</summary>
    public int WindowedMessages { get; init; } = 20_000;

    /// <summary>Messages in scenario (c): sender with a window, recipient online and acknowledging.</summary>
    public int EndToEndMessages { get; init; } = 20_000;

    /// <summary>Sends in flight in (b) and (c). The server allows 256 per connection by default.</summary>
    public int Window { get; init; } = 64;

    /// <summary>Bytes of UTF-8 text per message (ASCII, so also characters). At least 32: (c) carries a timestamp in it.</summary>
    public int TextBytes { get; init; } = 100;

    /// <summary>
    /// Messages sent (window <see cref="Window"/>) before each round's measurements, to get past JIT tiering and cold
    /// caches. With 500, (b) still ran about 10 % slower and used about 20 % more CPU per message than with 5,000.
    /// </summary>
    public int WarmupMessages { get; init; } = 5_000;

    /// <summary>Reconnects measured in (d), through a relay that delays each direction by half of <see cref="RttMs"/>; 0 skips (d).</summary>
    public int Reconnects { get; init; }

    /// <summary>The round trip the relay of (d) adds, in milliseconds.</summary>
    public int RttMs { get; init; } = 50;

    /// <summary>Independent rounds, each with a fresh directory, store and server; the report gives each and the medians.</summary>
    public int Repeat { get; init; } = 1;

    /// <summary>The whole run is cancelled after this long.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The store's quota of unacknowledged messages per recipient. The default server quota is 10,000, which (b)
    /// alone would exceed because its recipient is offline; the quota check is an in-memory lookup either way, so
    /// raising it changes no code path that is measured.
    /// </summary>
    public int MaxUnacknowledged { get; init; } = 1_000_000;

    /// <summary>
    /// Cluster mode: the store is NATS JetStream at these URLs instead of SQLite, and (c)'s recipient is on a second
    /// in-process node, so each message crosses nodes. Null: the embedded SQLite store (docs/performance.md).
    /// </summary>
    public string? Nats { get; init; }

    public const string Usage = """
        Parley load test: an in-process server (TLS, SQLite WAL synchronous=FULL) and two clients over loopback.

        Options (defaults in brackets):
          --single N             (a) messages sent one at a time, each awaiting SEND_OK [2000]
          --windowed N           (b) messages sent by one sender with --window in flight [20000]
          --e2e N                (c) messages to an online, acknowledging recipient [20000]
          --window W             sends in flight in (b) and (c) [64]
          --reconnects N         (d) reconnects (resume + SYNC) through a relay adding --rtt-ms, step by step
                                 and pipelined, alternately [0: skipped]
          --rtt-ms D             the round trip (d)'s relay adds, in milliseconds [50]
          --text-bytes B         message size in bytes, at least 32 [100]
          --warmup N             unmeasured messages before each round [5000]
          --repeat R             independent rounds (fresh store and server each); medians are reported [1]
          --timeout SECONDS      abort the whole run after this long [300]
          --max-unacknowledged N store quota per recipient (server default 10000) [1000000]
          --nats URL[,URL]       cluster mode: NATS JetStream store, (c)'s recipient on a second node [off: SQLite]
        """;

    /// <summary>Parses <c>--name value</c> pairs. Returns null and prints why when they are not understood.</summary>
    public static LoadTestOptions? Parse(string[] args, TextWriter errors)
    {
        var options = new LoadTestOptions();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "-h" or "--help")
            {
                errors.WriteLine(Usage);
                return null;
            }

            if (args[i] == "--nats" && i + 1 < args.Length)
            {
                options = options with { Nats = args[++i] };
                continue;
            }

            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 0)
            {
                errors.WriteLine($"{args[i]} needs a whole number after it.");
                errors.WriteLine(Usage);
                return null;
            }

            options = args[i] switch
            {
                "--single" => options with { SingleMessages = value },
                "--windowed" => options with { WindowedMessages = value },
                "--e2e" => options with { EndToEndMessages = value },
                "--window" => options with { Window = Math.Max(1, value) },
                "--reconnects" => options with { Reconnects = Math.Max(0, value) },
                "--rtt-ms" => options with { RttMs = Math.Max(0, value) },
                "--text-bytes" => options with { TextBytes = Math.Max(32, value) },
                "--warmup" => options with { WarmupMessages = value },
                "--repeat" => options with { Repeat = Math.Max(1, value) },
                "--timeout" => options with { Timeout = TimeSpan.FromSeconds(Math.Max(1, value)) },
                "--max-unacknowledged" => options with { MaxUnacknowledged = Math.Max(1, value) },
                _ => null,
            };
            if (options is null)
            {
                errors.WriteLine($"unknown option {args[i]}");
                errors.WriteLine(Usage);
                return null;
            }

            i++;
        }

        return options;
    }
}
