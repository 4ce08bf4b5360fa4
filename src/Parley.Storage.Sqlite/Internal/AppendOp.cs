using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Parley.Protocol;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Appends one submission: dedupe on (sender, id), check the recipient and its quota, append to the recipient's log
/// and the sender's, remember the submission. All in the batch's transaction, into the staged tables.
/// </summary>
internal sealed class AppendOp(Submission submission, StoreLimits limits, Action<AppendResult, Exception?>? completed = null)
    : WriteOp<AppendResult>(completed)
{
    /// <summary>
    /// Computed where the op is made (the sending connection's thread), not in <see cref="Execute"/>: the writer thread
    /// runs every append of every connection in turn, and the hash needs none of its state (it was 6 % of the writer's
    /// samples in W1, docs/performance.md, session 7).
    /// </summary>
    private readonly byte[] _digest = Digest(submission);

    public override void Execute(WriterContext context)
    {
        var digest = _digest;

        if (context.State.TryGetStagedSubmit(submission.From, submission.Id, out var staged))
        {
            SetResult(staged.Digest.AsSpan().SequenceEqual(digest)
                ? new AppendResult(AppendStatus.Duplicate, staged.Sequence, staged.Time)
                : new AppendResult(AppendStatus.IdReused, 0, 0));
            return;
        }

        Span<byte> id = stackalloc byte[MessageId.Size];
        submission.Id.CopyTo(id);
        var find = context.Statements.FindSubmit;
        if (context.State.MayBeMerged(context.Connection, submission.From, id) && Found(find, submission.From, id))
        {
            var result = find.Blob(0).SequenceEqual(digest)
                ? new AppendResult(AppendStatus.Duplicate, (ulong)find.Int64(1), find.Int64(2))
                : new AppendResult(AppendStatus.IdReused, 0, 0);
            find.Reset();
            SetResult(result);
            return;
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

        var remember = context.StagedSubmitInsert(submission.From);
        remember.Bind(1, submission.From);
        remember.Bind(2, id);
        remember.Bind(3, digest);
        remember.Bind(4, (long)senderSequence);
        remember.Bind(5, now);
        remember.Execute();
        context.State.StageSubmit(submission.From, submission.Id, new StagedSubmit(digest, senderSequence, now));

        SetResult(new AppendResult(AppendStatus.Stored, senderSequence, now));
    }

    private static bool Found(RawStatement find, string sender, ReadOnlySpan<byte> id)
    {
        find.Bind(1, sender);
        find.Bind(2, id);
        return find.Read();
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
        var insert = context.StagedLogInsert(owner);
        Span<byte> idBytes = stackalloc byte[MessageId.Size];
        id.CopyTo(idBytes);
        insert.Bind(1, owner);
        insert.Bind(2, (long)sequence);
        insert.Bind(3, idBytes);
        insert.Bind(4, from);
        insert.Bind(5, to);
        insert.Bind(6, time);
        insert.Bind(7, text);
        // NULL columns for a plain message: rows written before files existed look the same (FileColumns).
        if (file is null)
        {
            insert.BindNull(8);
            insert.BindNull(9);
            insert.BindNull(10);
            insert.BindNull(11);
        }
        else
        {
            Span<byte> fileId = stackalloc byte[MessageId.Size];
            file.FileId.CopyTo(fileId);
            insert.Bind(8, fileId);
            insert.Bind(9, file.Name);
            insert.Bind(10, (long)file.Size);
            insert.Bind(11, file.Sha256);
        }

        // The sender's copy's place, for delivery receipts (SenderSequenceColumn); 0 in the sender's own copy and a bot's reply.
        insert.Bind(12, (long)senderSequence);

        insert.Execute();
        var entry = new LogEntry(owner, sequence, id, from, to, time, text, file);
        context.Appended.Add(entry);
        context.Staged.Add(new StagedEntry(entry, senderSequence));
        if (from != owner)
        {
            context.State.Received(owner);
        }
    }

    /// <summary>
    /// What "the same content" means for a retried id: same recipient, same text. The SHA-256 of the UTF-8 of
    /// (To + "\0" + Text), encoded into a pooled buffer rather than through that string.
    /// </summary>
    private static byte[] Digest(Submission submission)
    {
        var length = Encoding.UTF8.GetByteCount(submission.To) + 1 + Encoding.UTF8.GetByteCount(submission.Text);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(submission.To, buffer);
            buffer[written++] = 0;
            written += Encoding.UTF8.GetBytes(submission.Text, buffer.AsSpan(written));
            return SHA256.HashData(buffer.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
