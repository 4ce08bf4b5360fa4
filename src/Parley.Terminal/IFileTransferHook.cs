namespace Parley.Terminal;

/// <summary>
/// Where `/send PATH` and `@trans:PATH` go. File transfer is built separately (src/Parley.Client/Files); until it is
/// joined here, no hook is passed and the chat says "file transfer is not available in this build".
/// </summary>
public interface IFileTransferHook
{
    /// <summary>Sends <paramref name="path"/> to <paramref name="peer"/>, calling <paramref name="report"/> with progress lines.</summary>
    Task SendFileAsync(string peer, string path, Action<string> report, CancellationToken cancellationToken);

    /// <summary>Fetches the offered file <paramref name="id"/> into the downloads folder; returns where it was saved.</summary>
    Task<string> GetFileAsync(string id, Action<string> report, CancellationToken cancellationToken);
}
