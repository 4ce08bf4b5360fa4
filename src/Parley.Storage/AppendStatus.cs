namespace Parley.Storage;

/// <summary>The outcome of <see cref="IChatStore.AppendAsync"/>.</summary>
public enum AppendStatus
{
    /// <summary>Stored now.</summary>
    Stored,
    /// <summary>Stored before with the same content: the original sequence and time are returned.</summary>
    Duplicate,
    /// <summary>The sender used this id before for different content; nothing stored.</summary>
    IdReused,
    /// <summary>The recipient has too many messages not yet acknowledged by their devices; nothing stored.</summary>
    QueueFull,
    /// <summary>No such recipient; nothing stored.</summary>
    UnknownRecipient,
}
