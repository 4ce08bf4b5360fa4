namespace Parley.Client.P2P;

/// <summary>How a message was delivered, and why not directly when it went through the server.</summary>
public sealed record SendOutcome(DeliveryPath Path, string? FallbackReason);
