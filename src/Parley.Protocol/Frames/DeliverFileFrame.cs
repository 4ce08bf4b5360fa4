namespace Parley.Protocol.Frames;

/// <summary>
/// DELIVER_FILE (0xA5), server to client: a log entry that offers a file. It takes the place of DELIVER for such
/// entries, has a sequence in the same log, and is acknowledged with ACK like any entry. The message id is the file id.
/// </summary>
public sealed record DeliverFileFrame(ulong Sequence, MessageId Id, string From, string To, long Time, FileOffer Offer) : Frame
{
    public override FrameType Type => FrameType.DeliverFile;

    public override int PayloadLength() =>
        8 + MessageId.Size + PayloadSize.String(From) + PayloadSize.String(To) + 8 + MessageId.Size + PayloadSize.String(Offer.Name) + 8 +
        FileTransferLimits.HashBytes;

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU64(Sequence);
        writer.WriteMessageId(Id);
        writer.WriteString(From);
        writer.WriteString(To);
        writer.WriteI64(Time);
        writer.WriteMessageId(Offer.FileId);
        writer.WriteString(Offer.Name);
        writer.WriteU64(Offer.Size);
        writer.WriteFixed(Offer.Sha256);
    }

    /// <summary>The entry as a plain DELIVER, for code that shows text (the text describes the file).</summary>
    public DeliverFrame AsMessage() => new(Sequence, Id, From, To, Time, Offer.Describe());

    internal static DeliverFileFrame Read(ref PayloadReader reader)
    {
        var sequence = reader.ReadU64();
        var id = reader.ReadMessageId();
        var from = reader.ReadString(256);
        var to = reader.ReadString(256);
        var time = reader.ReadI64();
        var offer = new FileOffer(reader.ReadMessageId(), reader.ReadString(FileTransferLimits.MaxNameBytes), reader.ReadU64(),
            reader.ReadFixed(FileTransferLimits.HashBytes));
        return new DeliverFileFrame(sequence, id, from, to, time, offer);
    }
}
