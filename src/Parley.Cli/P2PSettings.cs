using System.CommandLine;
using System.Net;
using Parley.Client;
using Parley.Client.P2P;

namespace Parley.Cli;

/// <summary>The P2P options of chat, listen and send (docs/p2p.md, "Settings"), and how they become <see cref="PeerOptions"/>.</summary>
internal static class P2PSettings
{
    public static readonly Option<bool> P2P = new("--p2p")
    {
        Description = "P2P mode: talk to peers directly, the server only as directory and fallback (also: `parley p2p on`, PARLEY_P2P=1)",
    };

    public static readonly Option<string> Listen = new("--p2p-listen")
    {
        Description = "Where to accept direct links, HOST:PORT (default: $PARLEY_P2P_LISTEN or 0.0.0.0:0, any free port)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PARLEY_P2P_LISTEN") ?? "0.0.0.0:0",
    };

    public static readonly Option<string?> Advertise = new("--p2p-advertise")
    {
        Description = "Endpoint to put in the directory, HOST:PORT (default: the listening port at the address the server sees)",
    };

    public static readonly Option<double?> Heartbeat = new("--heartbeat-interval")
    {
        Description = "Seconds between heartbeats to the directory (default: what the server asks for, 30 s)",
    };

    public static readonly Option<double> AckTimeout = new("--ack-timeout")
    {
        Description = "Seconds to wait for a peer's acknowledgement before sending through the server instead",
        DefaultValueFactory = _ => new PeerOptions().AckTimeout.TotalSeconds,
    };

    public static void AddTo(Command command, bool listens)
    {
        command.Options.Add(P2P);
        if (listens)
        {
            command.Options.Add(Listen);
            command.Options.Add(Advertise);
        }

        command.Options.Add(Heartbeat);
        command.Options.Add(AckTimeout);
    }

    public static bool Enabled(ParseResult parse, DeviceHome home) => parse.GetValue(P2P) || home.P2PEnabled;

    public static PeerOptions Options(ParseResult parse, bool listens)
    {
        IPEndPoint? listen = null;
        if (listens)
        {
            var text = parse.GetValue(Listen)!;
            listen = IPEndPoint.TryParse(text, out var parsed) ? parsed : throw new UserError($"--p2p-listen: {text} is not IP:PORT");
        }

        var heartbeat = parse.GetValue(Heartbeat);
        return new PeerOptions
        {
            Listen = listen,
            Advertise = listens ? parse.GetValue(Advertise) : null,
            HeartbeatInterval = heartbeat is > 0 ? TimeSpan.FromSeconds(heartbeat.Value) : null,
            AckTimeout = TimeSpan.FromSeconds(Math.Max(0.1, parse.GetValue(AckTimeout))),
        };
    }

    /// <summary>Status lines of the node go to stderr, prefixed like every other parley message.</summary>
    public static void Status(string line)
    {
        Console.Error.WriteLine($"parley: {line}");
        Console.Error.Flush();
    }

    /// <summary>The line scripts and tests wait for: the node is registered and accepting.</summary>
    public static void Ready(PeerNode node)
    {
        Status($"p2p ready: {node.User}/{node.Device} listening on {node.ListenEndPoint?.ToString() ?? "(none)"}");
    }
}
