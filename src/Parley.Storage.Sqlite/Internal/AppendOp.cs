using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Parley.Protocol;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Appends one submission: dedupe on (sender, id), check the recipient and its quota, append to the recipient's log
/// and the sender's, remember the submission. All in the batch's transaction, into the staged tables.
/// </summary>
internal sealed class AppendOp(Submission submission, StoreLimits limits) : WriteOp<AppendResult>
{
    public override void Execute(WriterContext context)
    {
        var digest = Digest(submission);

        if (context.State.TryGetStagedSubmit(submission.From, submission.Id, out var staged))
        {
            SetResult(staged.Digest.AsSpan().SequenceEqual(digest)
                ? new AppendResult(AppendStatus.Duplicate, staged.Sequence, staged.Time)
                : new AppendResult(AppendStatus.IdReused, 0, 0));
            return;
        }

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
        if (!isBot && context.State.Unacknowledged(context.Connection, submission.To, (ulong)limits.MaxUnacknowledgedPerUser, context.Staged) >= (ulong)limits.MaxUnacknowledgedPerUser)
        {
            SetResult(new AppendResult(AppendStatus.QueueFull, 0, 0));
            return;
        }

        var now = context.Now;
        ulong senderSequence;
        if (isBot)
        {
            // A bot keeps no log of its own: only the sender's copy and the reply are stored.
            senderSequence = context.State.Next(context.Connection, submission.From);
            Append(context, submission.From, senderSequence, submission.Id, submission.From, submission.To, now, submission.Text, submission.File, 0);
            var replySequence = context.State.Next(context.Connection, submission.From);
            Append(context, submission.From, replySequence, ReplyId(submission.Id), submission.To, submission.From, now, submission.AutoReply!, null, 0);
        }
        else
        {
            var recipientSequence = context.State.Next(context.Connection, submission.To);
            senderSequence = selfNote ? recipientSequence : context.State.Next(context.Connection, submission.From);
            Append(context, submission.To, recipientSequence, submission.Id, submission.From, submission.To, now, submission.Text, submission.File, senderSequence);
            if (!selfNote)
            {
                Append(context, submission.From, senderSequence, submission.Id, submission.From, submission.To, now, submission.Text, submission.File, 0);
            }
        }

        var remember = context.Commands.Get(
            "INSERT INTO staged_submits(sender, id, digest, seq, time) VALUES ($sender, $id, $digest, $seq, $time)",
            "$sender", "$id", "$digest", "$seq", "$time");
        remember.Parameters[0].Value = submission.From;
        remember.Parameters[1].Value = submission.Id.ToArray();
        remember.Parameters[2].Value = digest;
        remember.Parameters[3].Value = (long)senderSequence;
        remember.Parameters[4].Value = now;
        remember.ExecuteNonQuery();
        context.State.StageSubmit(submission.From, submission.Id, new StagedSubmit(digest, senderSequence, now));

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

    /// <summary>
    /// Writes one entry to the append-only staged log (rows in insertion order, so a batch dirties a few tail pages
    /// instead of one page per user); <see cref="StagedMerge"/> later moves it into the log table.
    /// </summary>
    private static void Append(WriterContext context, string owner, ulong sequence, MessageId id, string from, string to, long time, string text, FileOffer? file,
        ulong senderSequence)
    {
        var insert = context.Commands.Get(
            "INSERT INTO staged_log(owner, seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha) " +
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
        var entry = new LogEntry(owner, sequence, id, from, to, time, text, file);
        context.Appended.Add(entry);
        context.Staged.Add(new StagedEntry(entry, senderSequence));
        if (from != owner)
        {
            context.State.Received(owner);
        }
    }

    /// <summary>What "the same content" means for a retried id: same recipient, same text.</summary>
    private static byte[] Digest(Submission submission) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(submission.To + "\0" + submission.Text));
}
