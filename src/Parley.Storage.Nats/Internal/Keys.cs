using System.Security.Cryptography;
using System.Text;
using Parley.Protocol;

namespace Parley.Storage.Nats.Internal;

/// <summary>
/// Names in NATS. User names may contain '.', which separates subject tokens, and device ids may too; so every
/// name that goes into a subject or a key is hex-encoded, which is always a valid single token.
/// </summary>
internal static class Keys
{
    public static string Hex(string name) => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(name));

    public static string FromHex(string hex) => Encoding.UTF8.GetString(Convert.FromHexString(hex));

    /// <summary>
    /// The Nats-Msg-Id of one copy of a message: the same (sender, id) always gives the same id per log, so a retried
    /// publish inside the duplicate window is dropped by the stream and answered with the first sequence.
    /// </summary>
    public static string MsgId(string sender, MessageId id, string owner) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{sender}\0{id}\0{owner}")))[..32];

    /// <summary>What "the same content" means for a retried id: same recipient, same text (as the SQLite store).</summary>
    public static byte[] Digest(Submission submission) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(submission.To + "\0" + submission.Text));

    /// <summary>The id of a bot's reply, derived from the message's id (the same rule as the SQLite store).</summary>
    public static MessageId ReplyId(MessageId id)
    {
        Span<byte> bytes = stackalloc byte[MessageId.Size];
        id.CopyTo(bytes);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return new MessageId(hash[..MessageId.Size]);
    }
}
