namespace Parley.StoreFloor;

/// <summary>
/// One message as a store receives it, with the two places it takes: the next sequence of the recipient's log and of
/// the sender's. Users are indexes into <see cref="MessageSource.Users"/>, whose names are UTF-8 already (encoded once per
/// user), as a store that binds text by pointer would have them.
/// </summary>
internal readonly record struct FloorMessage(
    int From, int To, byte[] Id, long Time, long RecipientSequence, long SenderSequence);
