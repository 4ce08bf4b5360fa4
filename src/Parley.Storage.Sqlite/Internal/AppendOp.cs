using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Parley.Protocol;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Appends one submission: dedupe on (sender, id), check the recipient and its quota, append to the recipient's log
/// and the sender's, remember the submission. All in the batch's transaction.
/// </summary>
internal sealed class AppendOp(Submission submission, StoreLimits limits) : WriteOp<AppendResult>
{
    public override void Execute(WriterContext context)
    {
        var digest = Digest(submission);

        var find = context.Commands.Get("SELECT digest, seq, time FROM submits WHERE sender = $sender AND id = $id", "$sender", "$id");
        find.Parameters[0].Value = submission.From;
        find.Parameters[1].Value = submission.Id.ToArray();
        using (var reader = find.ExecuteReader())
        {
            if (reader.Read())
            {
                var stored = (byte[])reader.GetValue(0);
                SetResult(stored.AsSpan().SequenceEqual(digest)
                    ? new AppendResult(AppendStatus.Duplicate, (ulong)reader.GetInt64(1), reader.GetInt64(2))
                    : new AppendResult(AppendStatus.IdReused, 0, 0));
                return;
            }
        }

        if (!context.State.UserExists(context.Commands, submission.To))
        {
            SetResult(new AppendResult(AppendStatus.UnknownRecipient, 0, 0));
            return;
        }

        var isBot = submission.AutoReply is not null;
        var selfNote = submission.To == submission.From;
        if (!isBot && context.State.Unacknowledged(context.Connection, submission.To, (ulong)limits.MaxUnacknowledgedPerUser) >= (ulong)limits.MaxUnacknowledgedPerUser)
        {
            SetResult(new AppendResult(AppendStatus.QueueFull, 0, 0));
            return;
        }

        var now = context.Now;
        ulong senderSequence;
        if (isBot)
        {
            // A bot keeps no log of its own: only the sender's copy and the reply are stored.
            senderSequence = Append(context, submission.From, submission.Id, submission.From, submission.To, now, submission.Text, submission.File);
            Append(context, submission.From, ReplyId(submission.Id), submission.To, submission.From, now, submission.AutoReply!, null);
        }
        else
        {
            var recipientSequence = Append(context, submission.To, submission.Id, submission.From, submission.To, now, submission.Text, submission.File);
            senderSequence = selfNote
                ? recipientSequence
                : Append(context, submission.From, submission.Id, submission.From, submission.To, now, submission.Text, submission.File);
        }

        var remember = context.Commands.Get(
            "INSERT INTO submits(sender, id, digest, seq, time) VALUES ($sender, $id, $digest, $seq, $time)",
            "$sender", "$id", "$digest", "$seq", "$time");
        remember.Parameters[0].Value = submission.From;
        remember.Parameters[1].Value = submission.Id.ToArray();
        remember.Parameters[2].Value = digest;
        remember.Parameters[3].Value = (long)senderSequence;
        remember.Parameters[4].Value = now;
        remember.ExecuteNonQuery();

        SetResult(new AppendResult(AppendStatus.Stored, senderSequence, now));
    }

    /// <summary>The id of a bot's reply, derived from the message's id so that it is stable and unique per message.</summary>
    public static MessageId ReplyId(MessageId id)
    {
        Span<byte> bytes = stackalloc byte[MessageId.Size];
        id.CopyTo(bytes);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return new MessageId(hash[..MessageId.Size]);
    }

    private static ulong Append(WriterContext context, string owner, MessageId id, string from, string to, long time, string text, FileOffer? file)
    {
        var sequence = context.State.Next(context.Connection, owner);
        var insert = context.Commands.Get(
            "INSERT INTO log(owner, seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha) " +
            "VALUES ($owner, $seq, $id, $sender, $recipient, $time, $body, $fileId, $fileName, $fileSize, $fileSha)",
            "$owner", "$seq", "$id", "$sender", "$recipient", "$time", "$body", "$fileId", "$fileName", "$fileSize", "$fileSha");
        var values = insert.Parameters;
        values[0].Value = owner;
        values[1].Value = (long)sequence;
        values[2].Value = id.ToArray();
        values[3].Value = from;
        values[4].Value = to;
        values[5].Value = time;
        values[6].Value = text;
        // NULL columns for a plain message: rows written before files existed look the same (FileColumns).
        values[7].Value = file is null ? DBNull.Value : file.FileId.ToArray();
        values[8].Value = file is null ? DBNull.Value : file.Name;
        values[9].Value = file is null ? DBNull.Value : (long)file.Size;
        values[10].Value = file is null ? DBNull.Value : file.Sha256;
        insert.ExecuteNonQuery();
        context.Appended.Add(new LogEntry(owner, sequence, id, from, to, time, text, file));
        if (from != owner)
        {
            context.State.Received(owner);
        }

        return sequence;
    }

    /// <summary>What "the same content" means for a retried id: same recipient, same text.</summary>
    private static byte[] Digest(Submission submission) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(submission.To + "\0" + submission.Text));
}
