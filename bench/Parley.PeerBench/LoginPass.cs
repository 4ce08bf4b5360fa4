namespace Parley.PeerBench;

/// <summary>One pass of W3's logins: how long it took, the server CPU it cost (µs), and the failures.</summary>
internal sealed record LoginPass(double Seconds, double Cpu, int Failed, string? FirstFailure);
