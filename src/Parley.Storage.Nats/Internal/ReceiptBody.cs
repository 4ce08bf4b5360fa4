namespace Parley.Storage.Nats.Internal;

/// <summary>Delivery receipts as published to the other nodes.</summary>
internal sealed record ReceiptBody(string Node, List<ReceiptItem> Receipts);
