using System.Collections.Concurrent;
using System.Diagnostics;

namespace Parley.IntegrationTests.Faults;

/// <summary>
/// Applies random toxics to random proxies for a while: one loop per proxy, each a series of calm pauses and toxic
/// episodes (latency with jitter, slicer, bandwidth, limit_data, a black hole that ends in a reset, a reset_peer
/// window, an immediate reset of every connection, or latency and slicer at once). Each episode ends with the toxic
/// removed; when the time is up the loops finish their episode, so every proxy is left clean. The delays here pace
/// the faults; they synchronise nothing. Reproducible from the seed, up to thread timing.
/// </summary>
public sealed class ChaosMonkey
{
    private readonly IReadOnlyList<FaultProxy> _proxies;
    private readonly int _seed;
    private readonly ConcurrentDictionary<string, int> _applied = new();

    public ChaosMonkey(int seed, IReadOnlyList<FaultProxy> proxies)
    {
        _seed = seed;
        _proxies = proxies;
    }

    /// <summary>Toxic episodes applied, by kind.</summary>
    public IReadOnlyDictionary<string, int> Applied => _applied;

    public int Total => _applied.Values.Sum();

    public Task RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        return Task.WhenAll(_proxies.Select((proxy, i) => TormentAsync(proxy, new Random(_seed + i), end, cancellationToken)));
    }

    private async Task TormentAsync(FaultProxy proxy, Random random, long end, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < end)
        {
            await Task.Delay(random.Next(200, 1500), cancellationToken); // calm
            var hold = TimeSpan.FromMilliseconds(random.Next(500, 4000));
            var kind = random.Next(8);
            var (name, toxics) = kind switch
            {
                0 => ("latency", new Toxics
                {
                    Latency = TimeSpan.FromMilliseconds(random.Next(20, 800)),
                    Jitter = TimeSpan.FromMilliseconds(random.Next(0, 200)),
                }),
                1 => ("slicer", new Toxics { SliceBytes = random.Next(1, 64), SliceDelay = TimeSpan.FromMilliseconds(random.Next(0, 3)) }),
                2 => ("bandwidth", new Toxics { BandwidthBytesPerSecond = random.Next(2_000, 100_000) }),
                3 => ("limit_data", new Toxics { LimitBytes = (long)Math.Pow(10, random.NextDouble() * 4.7) }), // 1 B to 50 kB
                4 => ("black hole then reset", new Toxics { BlackHole = true }),
                5 => ("reset_peer", new Toxics { Reset = true }),
                6 => ("reset now", Toxics.None),
                _ => ("latency + slicer", new Toxics
                {
                    Latency = TimeSpan.FromMilliseconds(random.Next(20, 300)),
                    Jitter = TimeSpan.FromMilliseconds(random.Next(0, 100)),
                    SliceBytes = random.Next(1, 200),
                    SliceDelay = TimeSpan.FromMilliseconds(random.Next(0, 2)),
                }),
            };

            _applied.AddOrUpdate(name, 1, (_, n) => n + 1);
            if (kind == 6)
            {
                proxy.ResetAll();
                continue;
            }

            switch (random.Next(3))
            {
                case 0:
                    proxy.Set(ToxicDirection.Upstream, toxics);
                    break;
                case 1:
                    proxy.Set(ToxicDirection.Downstream, toxics);
                    break;
                default:
                    proxy.SetBoth(toxics);
                    break;
            }

            await Task.Delay(kind == 5 ? hold / 4 : hold, cancellationToken);
            proxy.Clear();
            if (kind == 4)
            {
                proxy.ResetAll(); // a black hole ends in a reset, as a dead route ends in a timeout
            }
        }
    }
}
