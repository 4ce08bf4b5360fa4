namespace Parley.Client;

/// <summary>
/// A home holds two devices of its user: the interactive one (chat, listen), which receives and acknowledges, and
/// one for one-shot commands (send, who). Since a second login of the same device replaces the first, this split
/// is what lets `parley send` run while `parley chat` is open in the same home without interrupting it.
/// </summary>
public enum DeviceRole
{
    Interactive,
    OneShot,
}
