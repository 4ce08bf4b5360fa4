using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>The connection ended; <see cref="Error"/> is the server's reason when it gave one.</summary>
public sealed record ClosedEvent(ErrorFrame? Error, Exception? Exception) : ServerEvent;
