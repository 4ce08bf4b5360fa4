namespace Parley.Storage.Nats.Internal;

/// <summary>A request to close sessions of <see cref="User"/> on other nodes (a device logged in again, a password change).</summary>
internal sealed record CloseBody(string User, string? Device, string? ExceptDevice, ushort Code, string Reason);
