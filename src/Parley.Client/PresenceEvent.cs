using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>A user came online or went offline.</summary>
public sealed record PresenceEvent(string User, bool Online) : ServerEvent;
