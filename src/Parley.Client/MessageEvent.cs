using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>An entry of this user's log arrived (to or from the user).</summary>
public sealed record MessageEvent(DeliverFrame Message) : ServerEvent;
