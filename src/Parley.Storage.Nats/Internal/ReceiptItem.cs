namespace Parley.Storage.Nats.Internal;

/// <summary>One receipt on the wire between nodes.</summary>
internal sealed record ReceiptItem(string Sender, string Recipient, ulong SenderSequence);
