using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;
using Parley.Security;
using Parley.Server;
using Parley.Server.Memory;
using Parley.Storage;
using Parley.Storage.Nats;
using Parley.Storage.Sqlite;

namespace Parley.Cli;

/// <summary>
/// `parley serve`: the server on its embedded SQLite store, or with --nats one node of a cluster whose state lives in
/// NATS JetStream (docs/topology.md). The data folder then keeps only the node's TLS key and uploads in progress.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data")
        {
            Description = "Data folder: database, TLS key and certificate (default: $PARLEY_DATA or ./parley-data)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PARLEY_DATA") ?? "parley-data",
        };
        var listen = new Option<string>("--listen")
        {
            Description = "Address to listen on, HOST:PORT; port 0 picks a free one (default: $PARLEY_LISTEN or 127.0.0.1:7878)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PARLEY_LISTEN") ?? "127.0.0.1:7878",
        };
        var noRegistration = new Option<bool>("--no-registration") { Description = "Refuse REGISTER: only existing accounts may log in" };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least level logged to stderr", DefaultValueFactory = _ => LogLevel.Information };
        var maxDevices = new Option<int>("--max-devices") { Description = "Most devices of one user online at once", DefaultValueFactory = _ => 10 };
        var maxWatched = new Option<int>("--max-watched")
        {
            Description = "Most users one session may follow the presence of (WATCH)",
            DefaultValueFactory = _ => new ServerOptions().MaxWatchedUsers,
        };
        var maxUnread = new Option<int>("--max-unacknowledged")
        {
            Description = "Most messages waiting for a user that none of their devices acknowledged; more are refused",
            DefaultValueFactory = _ => 10_000,
        };

        var stagedEntries = new Option<int>("--staged-entries")
        {
            Description = "Log entries one partition of the SQLite store's staged log holds in append order (and in memory) before they are merged into its index in one sorted pass",
            DefaultValueFactory = _ => new SqliteStoreOptions("").StagedEntries,
        };
        var stagedPartitions = new Option<int>("--staged-partitions")
        {
            Description = "Partitions of the SQLite store's staged log, by user, each merged alone (1: one staged log)",
            DefaultValueFactory = _ => new SqliteStoreOptions("").StagedPartitions,
        };
        var maxStagedFactor = new Option<int>("--max-staged-factor")
        {
            Description = "While a partition's merge runs, appends go on beside it; at this many times --staged-entries in that partition the writer waits for merges (at least 2)",
            DefaultValueFactory = _ => new SqliteStoreOptions("").MaxStagedFactor,
        };
        var writerCache = new Option<int>("--writer-cache-mib")
        {
            Description = "MiB of SQLite page cache for the store's writer connection (the log tails it appends to)",
            DefaultValueFactory = _ => (int)(new SqliteStoreOptions("").WriterCacheBytes / (1024 * 1024)),
        };

        var rateLimit = new Option<int>("--rate-limit")
        {
            Description = "Frames a connection may send per second, sustained, after a burst (0: no limit)",
            DefaultValueFactory = _ => new ServerOptions().RateLimitFramesPerSecond,
        };
        var rateBurst = new Option<int>("--rate-burst")
        {
            Description = "Frames a connection may send at once before --rate-limit applies",
            DefaultValueFactory = _ => new ServerOptions().RateLimitBurst,
        };

        var maxFile = new Option<long>("--max-file-bytes")
        {
            Description = "Largest file a user may send; a larger declared size is refused before any byte is written",
            DefaultValueFactory = _ => new ServerOptions().MaxFileBytes,
        };
        var fileQuota = new Option<long>("--file-quota-bytes")
        {
            Description = "Bytes of files one user may have waiting to be fetched",
            DefaultValueFactory = _ => new ServerOptions().FileQuotaBytesPerUser,
        };
        var fileRetention = new Option<double>("--file-retention-days")
        {
            Description = "Days an uploaded file is kept for its recipient",
            DefaultValueFactory = _ => new ServerOptions().FileRetention.TotalDays,
        };

        var seedCompat = new Option<string?>("--seed-compat")
        {
            Description = "Also accept the design note's old Python client on HOST:PORT (plain TCP, no passwords: its users are " +
                "guests, shown as ~name; off by default, see docs/seed-compat.md)",
        };

        // Connection caps, for load tests that open thousands of connections from 127.0.0.1 (bench/Parley.PeerBench).
        var maxConnections = new Option<int>("--max-connections")
        {
            Description = "Most connections the server holds at once",
            DefaultValueFactory = _ => new ServerOptions().MaxConnections,
        };
        var maxPerAddress = new Option<int>("--max-connections-per-address")
        {
            Description = "Most connections from one client address",
            DefaultValueFactory = _ => new ServerOptions().MaxConnectionsPerAddress,
        };
        var maxUnauthenticated = new Option<int>("--max-unauthenticated-per-address")
        {
            Description = "Most connections from one client address that have not logged in yet",
            DefaultValueFactory = _ => new ServerOptions().MaxUnauthenticatedPerAddress,
        };

        var heartbeat = new Option<double>("--directory-heartbeat-interval")
        {
            Description = "Seconds between the heartbeats a P2P device must send to stay in the directory",
            DefaultValueFactory = _ => new ServerOptions().DirectoryHeartbeatInterval.TotalSeconds,
        };
        var missed = new Option<int>("--directory-missed-heartbeats")
        {
            Description = "Heartbeats a P2P device may miss before the directory forgets it",
            DefaultValueFactory = _ => new ServerOptions().DirectoryMissedHeartbeats,
        };
        var loadLog = new Option<double>("--load-log-interval")
        {
            Description = "Seconds between log lines with the open connection count, sessions and directory size (0: off)",
            DefaultValueFactory = _ => new ServerOptions().LoadLogInterval.TotalSeconds,
        };

        var idleMemoryRelease = new Option<int>("--idle-memory-release")
        {
            Description = "MiB allocated since the last garbage collection after which a server that has gone idle collects and gives the memory back to the system (0: off)",
            DefaultValueFactory = _ => (int)(new IdleMemoryReleaseOptions().MinimumGarbageBytes >> 20),
        };
        var keepTlsBuffers = new Option<bool>("--keep-tls-buffers")
        {
            Description = "Keep each connection's OpenSSL record buffers while it is idle, instead of freeing them (about 14 KiB more per idle connection)",
        };
        var files = new Option<string?>("--files")
        {
            Description = "Folder for uploaded files (default: DATA/files). In cluster mode (--nats) files are kept in NATS and this folder holds only this node's uploads in progress",
        };
        var nats = new Option<string?>("--nats")
        {
            Description = "Cluster mode: keep all state in NATS JetStream at nats://HOST:PORT[,nats://HOST:PORT...] instead of SQLite (default: $PARLEY_NATS)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PARLEY_NATS"),
        };
        var natsReplicas = new Option<int>("--nats-replicas")
        {
            Description = "Replicas of each NATS stream and bucket (0: 3 in a NATS cluster, 1 on a single NATS server)",
            DefaultValueFactory = _ => 0,
        };
        var natsNamespace = new Option<string>("--nats-namespace")
        {
            Description = "Prefix of Parley's streams, buckets and subjects in NATS; every node of one cluster uses the same (default: $PARLEY_NATS_NAMESPACE or parley)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PARLEY_NATS_NAMESPACE") ?? "parley",
        };

        var command = new Command("serve", "Run the server (TLS, embedded SQLite store, or a cluster node with --nats). Ctrl+C or SIGTERM stops it cleanly.")
        {
            data, listen, noRegistration, logLevel, maxDevices, maxWatched, maxUnread, stagedEntries, stagedPartitions, maxStagedFactor, writerCache, rateLimit, rateBurst, maxFile, fileQuota, fileRetention,
            maxConnections, maxPerAddress, maxUnauthenticated, seedCompat, heartbeat, missed, loadLog,
            nats, natsReplicas, natsNamespace, files, keepTlsBuffers, idleMemoryRelease,
        };
        command.SetAction((parse, _) => ErrorReporter.RunAsync(() => RunAsync(
            parse.GetValue(data)!, parse.GetValue(listen)!, !parse.GetValue(noRegistration), parse.GetValue(logLevel),
            parse.GetValue(maxDevices), parse.GetValue(maxUnread),
            new EmbeddedStoreSettings(Math.Max(1, parse.GetValue(stagedEntries)), Math.Max(1, parse.GetValue(stagedPartitions)),
                Math.Max(1, parse.GetValue(writerCache)) * 1024L * 1024, Math.Max(2, parse.GetValue(maxStagedFactor))),
            parse.GetValue(rateLimit), parse.GetValue(rateBurst),
            new ServerOptions
            {
                MaxWatchedUsers = Math.Max(0, parse.GetValue(maxWatched)),
                MaxFileBytes = parse.GetValue(maxFile),
                FileQuotaBytesPerUser = parse.GetValue(fileQuota),
                FileRetention = TimeSpan.FromDays(parse.GetValue(fileRetention)),
                MaxConnections = parse.GetValue(maxConnections),
                MaxConnectionsPerAddress = parse.GetValue(maxPerAddress),
                MaxUnauthenticatedPerAddress = parse.GetValue(maxUnauthenticated),
                SeedCompatEndpoint = parse.GetValue(seedCompat) is { } seed ? ParseEndPoint(seed) : null,
                DirectoryHeartbeatInterval = Positive(parse.GetValue(heartbeat), "--directory-heartbeat-interval"),
                DirectoryMissedHeartbeats = Math.Max(1, parse.GetValue(missed)),
                LoadLogInterval = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(loadLog))),
                ReleaseIdleTlsBuffers = !parse.GetValue(keepTlsBuffers),
            },
            new ClusterSettings(parse.GetValue(nats), parse.GetValue(natsReplicas), parse.GetValue(natsNamespace)!, parse.GetValue(files)),
            new IdleMemoryReleaseOptions { MinimumGarbageBytes = Math.Max(0, parse.GetValue(idleMemoryRelease)) * 1024L * 1024 })));
        return command;
    }

    private static async Task<int> RunAsync(string data, string listen, bool allowRegistration, LogLevel level, int maxDevices, int maxUnread,
        EmbeddedStoreSettings embedded, int rateLimit, int rateBurst, ServerOptions fileLimits, ClusterSettings cluster, IdleMemoryReleaseOptions idleMemory)
    {
        PreferInlineSocketCompletions();
        using var signal = new ShutdownSignal();
        var endPoint = ParseEndPoint(listen);
        Directory.CreateDirectory(data);
        using var certificate = ServerCertificate.LoadOrCreate(data);
        using var loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddSimpleConsole(console => { console.SingleLine = true; console.TimestampFormat = "HH:mm:ss "; })
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace) // stdout is for the two lines scripts read
            .AddFilter(null, level));
        var limits = new StoreLimits { MaxUnacknowledgedPerUser = maxUnread };
        IChatStore store;
        IPeerDirectoryStore? directory = null; // null: the server keeps the P2P directory in memory
        IBlobStorage? blobStorage = null;
        if (string.IsNullOrWhiteSpace(cluster.Urls))
        {
            store = SqliteChatStore.Open(new SqliteStoreOptions(Path.Combine(data, "parley.db"))
            {
                Limits = limits,
                StagedEntries = embedded.StagedEntries,
                StagedPartitions = embedded.StagedPartitions,
                WriterCacheBytes = embedded.WriterCacheBytes,
                MaxStagedFactor = embedded.MaxStagedFactor,
            });
        }
        else
        {
            NatsChatStore natsStore;
            try
            {
                natsStore = await NatsChatStore.OpenAsync(new NatsStoreOptions
                {
                    Urls = cluster.Urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                    Replicas = cluster.Replicas,
                    Namespace = cluster.Namespace,
                    Limits = limits,
                }, signal.Token).ConfigureAwait(false);
            }
            catch (NatsStoreException exception)
            {
                throw new UserError(exception.Message, exception);
            }

            try
            {
                // Cluster-wide, so that a device registered through this node is found and kept alive through any other.
                directory = await natsStore.OpenDirectoryAsync(fileLimits.DirectoryHeartbeatInterval * fileLimits.DirectoryMissedHeartbeats, signal.Token)
                    .ConfigureAwait(false);
                // Files in NATS too, so any node serves any file; --files then only holds this node's uploads in progress.
                blobStorage = await NatsBlobStorage.OpenAsync(natsStore, fileLimits.FileRetention, cancellationToken: signal.Token).ConfigureAwait(false);
            }
            catch (NatsStoreException exception)
            {
                await natsStore.DisposeAsync().ConfigureAwait(false);
                throw new UserError(exception.Message, exception);
            }

            Console.Error.WriteLine($"parley: cluster mode on NATS {natsStore.ConnectedServer}, {natsStore.Replicas} replica(s), namespace {cluster.Namespace}");
            store = natsStore;
        }

        var options = fileLimits with
        {
            FilesPath = cluster.Files ?? Path.Combine(data, "files"),
            Listen = endPoint,
            AllowRegistration = allowRegistration,
            MaxDevicesPerUser = maxDevices,
            RateLimitFramesPerSecond = rateLimit,
            RateLimitBurst = rateBurst,
            RateLimitBytesPerSecond = rateLimit == 0 ? 0 : new ServerOptions().RateLimitBytesPerSecond,
        };
        var server = new ParleyServer(options, store, certificate, loggerFactory, directory: directory, blobStorage: blobStorage);
        await using var memory = new IdleMemoryRelease(idleMemory, loggerFactory.CreateLogger<IdleMemoryRelease>());
        try
        {
            await server.StartAsync(signal.Token).ConfigureAwait(false);
            // These lines are the interface for scripts and tests: keep their shape.
            Console.Out.WriteLine($"parley server listening on {server.LocalEndPoint}");
            if (server.SeedCompatEndPoint is { } seedEndPoint)
            {
                Console.Out.WriteLine($"seed-compat guests (the note's old client, no TLS) at {seedEndPoint}");
            }

            Console.Out.WriteLine($"key fingerprint {server.Fingerprint}");
            Console.Out.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, signal.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            Console.Error.WriteLine("parley: shutting down");
            await server.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await server.DisposeAsync().ConfigureAwait(false);
            // Last: every write handed to the store is committed before the process ends.
            await store.DisposeAsync().ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>
    /// Lets a socket's receive completion run on the socket engine's event thread (one per core) instead of being
    /// queued to the thread pool: a message then costs one thread hop less. Measured under W2 (a message every 10 ms
    /// from each of 200 clients), the server spent about 10 % less CPU per message (docs/performance.md). .NET reads
    /// the switch once, at the first socket operation, so it is set before any. The condition is that no frame handler
    /// blocks: password hashing runs on the thread pool (Authenticator), store calls are short. An operator's own
    /// DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS (for instance 0) wins.
    /// </summary>
    private static void PreferInlineSocketCompletions()
    {
        const string Switch = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(Switch) is null)
        {
            Environment.SetEnvironmentVariable(Switch, "1");
        }
    }

    private static TimeSpan Positive(double seconds, string name) =>
        seconds > 0 ? TimeSpan.FromSeconds(seconds) : throw new UserError($"{name} must be more than 0 seconds");

    private static IPEndPoint ParseEndPoint(string text)
    {
        if (IPEndPoint.TryParse(text, out var endPoint))
        {
            return endPoint;
        }

        var address = Client.ServerAddress.Parse(text);
        var resolved = Dns.GetHostAddresses(address.Host);
        return resolved.Length > 0 ? new IPEndPoint(resolved[0], address.Port) : throw new UserError($"cannot resolve {address.Host}");
    }
}
