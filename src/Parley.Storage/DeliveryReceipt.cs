namespace Parley.Storage;

/// <summary>
/// A device of <see cref="Recipient"/> acknowledged, for the first time on any of its devices, messages from
/// <see cref="Sender"/>; the newest of them is at <see cref="SenderSequence"/> in the sender's own log.
/// </summary>
public sealed record DeliveryReceipt(string Sender, string Recipient, ulong SenderSequence);
