using Parley.Protocol;

namespace Parley.Storage;

/// <summary>
/// A message to store. <see cref="From"/> is always the authenticated sender, never a client-supplied field.
/// <see cref="AutoReply"/>, when set, is appended in the same transaction as a reply from the recipient (the
/// built-in echo account), so a crash can never keep the message and lose its reply.
/// <see cref="File"/>, when set, makes the entry a file offer (the blob is already stored; its id is <see cref="Id"/>).
/// </summary>
public sealed record Submission(string From, MessageId Id, string To, string Text, string? AutoReply = null, FileOffer? File = null);
