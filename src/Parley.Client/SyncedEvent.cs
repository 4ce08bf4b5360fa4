using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>Catch-up after SYNC is complete up to <see cref="Head"/>; what follows is live.</summary>
public sealed record SyncedEvent(ulong Head) : ServerEvent;
