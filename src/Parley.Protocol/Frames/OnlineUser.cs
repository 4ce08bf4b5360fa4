namespace Parley.Protocol.Frames;

/// <summary>One row of WHO_LIST: a user and how many of their devices are online.</summary>
public readonly record struct OnlineUser(string User, ushort Devices);
