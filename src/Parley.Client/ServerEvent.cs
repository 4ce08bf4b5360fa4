using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>Something the server pushed: a DELIVER, PRESENCE or SYNCED frame, or the connection's end.</summary>
public abstract record ServerEvent;
