using System.Diagnostics;
using System.Net;
using Parley.Client;

namespace Parley.LoadTest;

/// <summary>
/// (d) How long a reconnect takes over a long link: TCP, TLS (resumed), the resume-token login and SYNC up to SYNCED,
/// through a <see cref="DelayRelay"/>. Step by step (HELLO, then RESUME, then SYNC, each awaiting its answer) and
/// pipelined (<see cref="ParleyConnection.ConnectAndResumeAsync"/>: the three in one write), alternately, on the same
/// device, so both see the same server, store and TLS session cache.
/// </summary>
internal static class ReconnectScenario
{
    private const string User = "load-carol";
    private const string Device = "load-reconnect";

    public static async Task<string> RunAsync(LoadServer server, LoadTestOptions options, CancellationToken cancellationToken)
    {
        byte[] token;
        await using (var first = await server.ConnectAsync(cancellationToken))
        {
            token = (await first.RegisterAsync(User, Scenarios.Password, Device, cancellationToken)).Token;
        }

        var (direct, trust) = server.Endpoint;
        await using var relay = new DelayRelay(new IPEndPoint(IPAddress.Loopback, direct.Port), TimeSpan.FromMilliseconds(options.RttMs / 2.0));
        var address = new ServerAddress("127.0.0.1", relay.Port);
        var stepwise = new List<double>();
        var pipelined = new List<double>();
        for (var i = 0; i < 2 * options.Reconnects + 2; i++)
        {
            var clock = Stopwatch.StartNew();
            ParleyConnection connection;
            if (i % 2 == 0)
            {
                connection = await ParleyConnection.ConnectAsync(address, trust, cancellationToken: cancellationToken);
                var ok = await connection.ResumeAsync(User, token, Device, cancellationToken);
                token = ok.Token;
                await connection.SyncAsync(ok.Head, cancellationToken);
            }
            else
            {
                (connection, var ok) = await ParleyConnection.ConnectAndResumeAsync(address, trust, User, token, Device, ulong.MaxValue,
                    cancellationToken: cancellationToken);
                token = ok.Token;
            }

            await using (connection)
            {
                await Scenarios.WaitForSyncedAsync(connection, cancellationToken);
                if (i >= 2) // the first pair warms up (JIT, the TLS session cache)
                {
                    (i % 2 == 0 ? stepwise : pipelined).Add(clock.Elapsed.TotalMilliseconds);
                }
            }
        }

        return $"| (d) reconnect to SYNCED, relay RTT {options.RttMs} ms, {options.Reconnects} each | step by step: median {Median(stepwise):F1} ms " +
            $"(min {stepwise.Min():F1}) | pipelined: median {Median(pipelined):F1} ms (min {pipelined.Min():F1}) |";
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
