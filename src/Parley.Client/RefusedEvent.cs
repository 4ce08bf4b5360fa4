using Parley.Protocol;

namespace Parley.Client;

/// <summary>
/// The server refused a request that has no answer of its own (WATCH over the limit, or naming no valid user) and
/// keeps the connection open.
/// </summary>
public sealed record RefusedEvent(ErrorCode Code, string Message) : ServerEvent;
