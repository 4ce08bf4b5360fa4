using Parley.Client;
using Parley.Client.Files;
using Parley.Terminal;

namespace Parley.Cli;

/// <summary>
/// Joins the chat client's `/send`, `@trans:` and `/get` to file transfer, over the chat's own connection. Progress
/// goes to the conversation as info lines (at most one every 10 %), not a bar: the chat owns the screen.
/// </summary>
internal sealed class ChatFileTransfer(DeviceSession session, DeviceHome home) : IFileTransferHook
{
    public async Task SendFileAsync(string peer, string path, Action<string> report, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(Environment.ExpandEnvironmentVariables(path));
        if (!File.Exists(full))
        {
            report($"no such file: {path}");
            return;
        }

        var name = Path.GetFileName(full);
        var lastTenth = -1;
        var uploader = new FileUploader(session.ConnectedAsync, FileCommands.UploadStateFolder(home))
        {
            Progress = (done, total) => ReportTenths(done, total, ref lastTenth, $"sending {name}", report),
        };
        try
        {
            var done = await uploader.UploadAsync(full, peer, null, cancellationToken).ConfigureAwait(false);
            report($"sent {name} to {peer} (file id {done.FileId})");
        }
        catch (ParleyErrorException error)
        {
            report($"file refused: {error.Message}");
        }
    }

    public async Task<string> GetFileAsync(string id, Action<string> report, CancellationToken cancellationToken)
    {
        if (!FileCommands.TryParseId(id, out var fileId))
        {
            report($"bad file id {id}: 32 hex digits, as shown with the offer");
            return string.Empty;
        }

        var lastTenth = -1;
        var name = id;
        var downloader = new FileDownloader(session.ConnectedAsync)
        {
            Started = info => name = FileNameSanitizer.Sanitize(info.Name),
            Progress = (done, total) => ReportTenths(done, total, ref lastTenth, $"receiving {name}", report),
        };
        try
        {
            var saved = await downloader.DownloadAsync(fileId, FileCommands.DefaultDownloads(home), cancellationToken).ConfigureAwait(false);
            report($"saved {saved} (SHA-256 verified)");
            return saved;
        }
        catch (ParleyErrorException error)
        {
            report($"cannot get {id}: {error.Message}");
            return string.Empty;
        }
    }

    private static void ReportTenths(long done, long total, ref int lastTenth, string what, Action<string> report)
    {
        var tenth = total == 0 ? 10 : (int)(done * 10 / total);
        if (tenth != lastTenth)
        {
            lastTenth = tenth;
            report($"{what}: {tenth * 10} %");
        }
    }
}
