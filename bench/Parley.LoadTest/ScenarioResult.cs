namespace Parley.LoadTest;

/// <summary>
/// One scenario's outcome in one round. <see cref="Rate"/> is messages per second of what the scenario counts:
/// acknowledged (SEND_OK received) for (a) and (b), delivered to the recipient for (c). <see cref="CpuMicros"/> is
/// the process's CPU time (client and server together) per message over the measured interval.
/// </summary>
internal sealed record ScenarioResult(string Name, string Counts, int Messages, int Window, double Seconds, double Rate, double P50Ms, double P99Ms,
    double CpuMicros)
{
    /// <summary>In (c), the sender's own acknowledged rate, next to the delivered rate; NaN elsewhere.</summary>
    public double SenderAckRate { get; init; } = double.NaN;
}
