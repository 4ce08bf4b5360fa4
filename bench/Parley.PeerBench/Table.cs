using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Parley.PeerBench;

/// <summary>The one markdown table of a compare.sh run: every figure for every system, and Parley's ratio to each peer.</summary>
internal static partial class Table
{
    /// <summary>Every system a run may hold, Parley first; the table has a column for those with results.</summary>
    private static readonly (string Key, string Name, string Short)[] AllSystems =
    [
        ("parley", "Parley (TLS, SQLite FULL)", "Parley"), ("nats", "nats-server core", "nats-server"),
        ("jetstream", "NATS JetStream (file, acked)", "JetStream"), ("irc", "ngIRCd", "ngIRCd"), ("mqtt", "mosquitto QoS0", "mosquitto"),
        ("irc-tls", "ngIRCd + TLS", "ngIRCd+TLS"), ("mqtt-tls", "mosquitto QoS0 + TLS", "mosquitto+TLS"),
        ("dotnet", ".NET relay, no store (bench/Parley.TlsRelay --plain)", ".NET relay"),
        ("dotnet-tls", ".NET TLS relay, no store (bench/Parley.TlsRelay)", ".NET TLS relay"),
    ];

    public static string Render(string resultsPath, string w4Path)
    {
        var rows = File.ReadLines(resultsPath)
            .Where(line => line.Length > 0)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .GroupBy(row => (row.GetProperty("workload").GetString()!, row.GetProperty("system").GetString()!))
            .ToDictionary(group => group.Key, group => group.Last());

        var systems = AllSystems.Where(system => system.Key == "parley" || rows.Keys.Any(key => key.Item2 == system.Key)).ToArray();
        var output = new StringBuilder();
        output.Append("| figure |");
        foreach (var (_, name, _) in systems)
        {
            output.Append(CultureInfo.InvariantCulture, $" {name} |");
        }

        foreach (var (_, _, shortName) in systems.Skip(1))
        {
            output.Append(CultureInfo.InvariantCulture, $" Parley ÷ {shortName} |");
        }

        output.Append('\n').Append('|').Append(string.Concat(Enumerable.Repeat("---|", 1 + 2 * systems.Length - 1))).Append('\n');

        void Line(string figure, string workload, string field, string format, bool ratio)
        {
            output.Append(CultureInfo.InvariantCulture, $"| {figure} |");
            var values = systems.Select(system => Value(rows, workload, system.Key, field)).ToArray();
            foreach (var value in values)
            {
                output.Append(' ').Append(value is { } v ? Format(v, format) : "–").Append(" |");
            }

            foreach (var value in values.Skip(1))
            {
                output.Append(' ').Append(ratio && values[0] is { } p && value is { } v && v != 0 ? (p / v).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "").Append(" |");
            }

            output.Append('\n');
        }

        void TextLine(string figure, string workload, string field)
        {
            output.Append(CultureInfo.InvariantCulture, $"| {figure} |");
            foreach (var system in systems)
            {
                var text = rows.TryGetValue((workload, system.Key), out var row) && row.TryGetProperty(field, out var value)
                    && value.ValueKind == JsonValueKind.String ? value.GetString() : "–";
                output.Append(' ').Append(text).Append(" |");
            }

            output.Append(string.Concat(Enumerable.Repeat(" |", systems.Length - 1))).Append('\n');
        }

        foreach (var pairs in new[] { 100, 1000 })
        {
            var w = $"w1-p{pairs}";
            Line($"W1 P={pairs}: delivered msg/s", w, "msgs_per_s", "N0", true);
            Line($"W1 P={pairs}: messages sent (of target)", w, "sent", "N0", false);
            Line($"W1 P={pairs}: lost (sent − delivered)", w, "lost", "N0", false);
            Line($"W1 P={pairs}: not acknowledged (Parley SEND_OK, JetStream ack)", w, "unacked", "N0", false);
            Line($"W1 P={pairs}: server CPU µs/msg", w, "server_cpu_us_per_msg", "0.0", true);
            Line($"W1 P={pairs}: server CPU, cores busy", w, "server_cpu_cores", "0.00", true);
            Line($"W1 P={pairs}: server peak RSS MiB", w, "server_rss_peak_mib", "0", true);
            TextLine($"W1 P={pairs}: server CPU by thread", w, "server_threads");
        }

        Line("W2 p50 ms (100 pairs, 20k msg/s offered)", "w2", "p50_ms", "0.00", true);
        Line("W2 p99 ms", "w2", "p99_ms", "0.00", true);
        Line("W2 p999 ms", "w2", "p999_ms", "0.00", true);
        Line("W2 messages sent (200,000 offered in 10 s)", "w2", "sent", "N0", true);
        Line("W2 lost", "w2", "lost", "N0", false);
        Line("W3 KiB per idle logged-in connection", "w3", "kib_per_conn", "0.00", true);
        Line("W3 logins/s (Parley: TLS + RESUME token + SYNC), second pass", "w3", "logins_per_s", "N0", true);
        Line("W3 logins/s, first pass on the fresh server", "w3", "fresh_logins_per_s", "N0", true);
        Line("W3 connections opened", "w3", "connections", "N0", false);
        Line("W3 server CPU µs per login, second pass", "w3", "server_cpu_us_per_login", "N0", true);
        Line("W3 server CPU µs per login, first pass", "w3", "fresh_server_cpu_us_per_login", "N0", true);
        Line("W3 failed logins", "w3", "failed", "N0", false);
        Line("Parley LOGIN with password (Argon2id) logins/s", "w3-password", "logins_per_s", "N0", false);

        if (w4Path.Length > 0 && File.Exists(w4Path))
        {
            var text = File.ReadAllText(w4Path);
            var ceiling = Regex.Match(text, @"plain TCP copy[^:]*:\s*([0-9.]+) MiB/s");
            foreach (var (label, pattern) in new[]
            {
                ("W4 1 GiB upload MiB/s", "upload"), ("W4 1 GiB download MiB/s", "download"), ("W4 1 GiB upload + download MiB/s", "end to end"),
                ("W4 floor: TLS copy (.NET, no protocol) MiB/s", "TLS copy, receiver only counts"),
                ("W4 floor: TLS copy, receiver hashes, writes, fsyncs MiB/s", "TLS copy, receiver hashes, writes and fsyncs"),
            })
            {
                var match = Regex.Match(text, Regex.Escape(pattern) + @"[^:]*:\s*([0-9.]+) MiB/s[^\n]*?ratio(?: to ceiling)? ([0-9.]+)(?:\s+peak RSS client (\d+) MiB, server (\d+) MiB)?");
                if (match.Success)
                {
                    var memory = match.Groups[3].Success ? $", peak RSS client {match.Groups[3].Value} / server {match.Groups[4].Value} MiB" : "";
                    output.Append(CultureInfo.InvariantCulture,
                        $"| {label} | {match.Groups[1].Value} ({match.Groups[2].Value}x of plain TCP copy {ceiling.Groups[1].Value} MiB/s{memory}) |");
                    output.Append(string.Concat(Enumerable.Repeat(" |", 2 * systems.Length - 2))).Append('\n');
                }
            }
        }

        return output.ToString();
    }

    private static double? Value(Dictionary<(string, string), JsonElement> rows, string workload, string system, string field) =>
        rows.TryGetValue((workload, system), out var row) && row.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : null;

    private static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
