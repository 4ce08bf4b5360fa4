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
        var connection = context.Connection;
        var digest = Digest(submission);

        using (var find = connection.CreateCommand())
        {
            find.CommandText = "SELECT digest, seq, time FROM submits WHERE sender = $sender AND id = $id";
            find.Parameters.AddWithValue("$sender", submission.From);
            find.Parameters.AddWithValue("$id", submission.Id.ToArray());
            using var reader = find.ExecuteReader();
            if (reader.Read())
            {
                var stored = (byte[])reader.GetValue(0);
                SetResult(stored.AsSpan().SequenceEqual(digest)
                    ? new AppendResult(AppendStatus.Duplicate, (ulong)reader.GetInt64(1), reader.GetInt64(2))
                    : new AppendResult(AppendStatus.IdReused, 0, 0));
                return;
            }
        }

        using (var exists = connection.CreateCommand())
        {
            exists.CommandText = "SELECT 1 FROM users WHERE name = $name";
            exists.Parameters.AddWithValue("$name", submission.To);
            if (exists.ExecuteScalar() is null)
            {
                SetResult(new AppendResult(AppendStatus.UnknownRecipient, 0, 0));
                return;
            }
        }

        var isBot = submission.AutoReply is not null;
        var selfNote = submission.To == submission.From;
        if (!isBot && context.State.Unacknowledged(connection, submission.To, (ulong)limits.MaxUnacknowledgedPerUser) >= (ulong)limits.MaxUnacknowledgedPerUser)
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

        using (var remember = connection.CreateCommand())
        {
            remember.CommandText = "INSERT INTO submits(sender, id, digest, seq, time) VALUES ($sender, $id, $digest, $seq, $time)";
            remember.Parameters.AddWithValue("$sender", submission.From);
            remember.Parameters.AddWithValue("$id", submission.Id.ToArray());
            remember.Parameters.AddWithValue("$digest", digest);
            remember.Parameters.AddWithValue("$seq", (long)senderSequence);
            remember.Parameters.AddWithValue("$time", now);
            remember.ExecuteNonQuery();
        }

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
        using var insert = context.Connection.CreateCommand();
        insert.CommandText = "INSERT INTO log(owner, seq, id, sender, recipient, time, body, file_id, file_name, file_size, file_sha) " +
            "VALUES ($owner, $seq, $id, $sender, $recipient, $time, $body, $fileId, $fileName, $fileSize, $fileSha)";
        // NULL columns for a plain message: rows written before files existed look the same (FileColumns).
        insert.Parameters.AddWithValue("$fileId", file is null ? DBNull.Value : file.FileId.ToArray());
        insert.Parameters.AddWithValue("$fileName", file is null ? DBNull.Value : file.Name);
        insert.Parameters.AddWithValue("$fileSize", file is null ? DBNull.Value : (long)file.Size);
        insert.Parameters.AddWithValue("$fileSha", file is null ? DBNull.Value : file.Sha256);
        insert.Parameters.AddWithValue("$owner", owner);
        insert.Parameters.AddWithValue("$seq", (long)sequence);
        insert.Parameters.AddWithValue("$id", id.ToArray());
        insert.Parameters.AddWithValue("$sender", from);
        insert.Parameters.AddWithValue("$recipient", to);
        insert.Parameters.AddWithValue("$time", time);
        insert.Parameters.AddWithValue("$body", text);
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
