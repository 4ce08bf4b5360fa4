using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>
/// An entry of this user's log arrived (to or from the user). <see cref="File"/> is set when the entry offers a file;
/// <see cref="Message"/> then carries a text that describes it.
/// </summary>
public sealed record MessageEvent(DeliverFrame Message, FileOffer? File = null) : ServerEvent;
