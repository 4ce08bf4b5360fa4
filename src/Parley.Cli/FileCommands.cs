using System.CommandLine;
using Parley.Client;
using Parley.Client.Files;
using Parley.Protocol;

namespace Parley.Cli;

/// <summary>`parley send-file USER PATH` and `parley get ID [--to DIR]`: resumable, verified file transfer through the server.</summary>
internal static class FileCommands
{
    /// <summary>HOME/uploads: resume state of files being sent.</summary>
    public static string UploadStateFolder(DeviceHome home) => Path.Combine(home.Path, "uploads");

    /// <summary>HOME/downloads unless --to says otherwise.</summary>
    public static string DefaultDownloads(DeviceHome home) => Path.Combine(home.Path, "downloads");

    public static Command SendFile()
    {
        var to = new Argument<string>("user") { Description = "Recipient (need not be online)" };
        var path = new Argument<string>("path") { Description = "File to send" };
        var name = new Option<string?>("--name") { Description = "Name to offer the file under (default: the file's own name)" };
        var command = new Command("send-file", "Upload a file for a user; run it again after an interruption to resume") { to, path, name };
        P2PSettings.AddTo(command, listens: false);
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            var file = parse.GetValue(path)!;
            if (!File.Exists(file))
            {
                throw new UserError($"no such file: {file}");
            }

            await using var session = await DeviceSession.OpenAsync(home, DeviceRole.OneShot, signal.Token).ConfigureAwait(false);
            if (P2PSettings.Enabled(parse, home))
            {
                // Directly to the peer (same chunks, resume and hash check), through the server if that fails.
                await using var node = await Client.P2P.PeerNode.StartAsync(session, home, P2PSettings.Options(parse, listens: false), onMessage: null,
                    status: null, signal.Token).ConfigureAwait(false);
                var outcome = await node.SendFileAsync(file, parse.GetValue(to)!, parse.GetValue(name), signal.Token).ConfigureAwait(false);
                Console.Out.WriteLine(outcome.Path == Client.P2P.DeliveryPath.Direct
                    ? $"sent {Path.GetFileName(file)} to {parse.GetValue(to)} directly"
                    : $"sent {Path.GetFileName(file)} to {parse.GetValue(to)} through the server ({outcome.FallbackReason})");
                return 0;
            }

            var progress = new TransferProgress("sending", Path.GetFileName(file));
            var uploader = new FileUploader(session.ConnectedAsync, UploadStateFolder(home)) { Progress = progress.Report };
            var done = await SendAsync(uploader, file, parse.GetValue(to)!, parse.GetValue(name), signal.Token).ConfigureAwait(false);
            Console.Out.WriteLine($"sent {Path.GetFileName(file)} to {parse.GetValue(to)}: file id {done.FileId}");
            return 0;
        }));
        return command;
    }

    public static Command Get()
    {
        var id = new Argument<string>("id") { Description = "File id (32 hex digits), as shown with the offer" };
        var folder = new Option<string?>("--to") { Description = "Folder to save into (default: HOME/downloads)" };
        var command = new Command("get", "Download a file offered to you; verified by SHA-256, resumable, never overwrites") { id, folder };
        command.SetAction((parse, _) => ErrorReporter.RunAsync(async () =>
        {
            using var signal = new ShutdownSignal();
            var home = DeviceHome.Resolve(parse.GetValue(CliOptions.Home));
            if (!TryParseId(parse.GetValue(id)!, out var fileId))
            {
                throw new UserError("a file id is 32 hex digits");
            }

            await using var session = await DeviceSession.OpenAsync(home, DeviceRole.OneShot, signal.Token).ConfigureAwait(false);
            var saved = await GetAsync(session.ConnectedAsync, fileId, parse.GetValue(folder) ?? DefaultDownloads(home), signal.Token).ConfigureAwait(false);
            Console.Out.WriteLine($"saved {saved}");
            return 0;
        }));
        return command;
    }

    /// <summary>Uploads with the errors a user can act on turned into one-line messages.</summary>
    public static async Task<Protocol.Frames.UploadDoneFrame> SendAsync(FileUploader uploader, string file, string to, string? name, CancellationToken cancellationToken)
    {
        try
        {
            return await uploader.UploadAsync(file, to, name, cancellationToken).ConfigureAwait(false);
        }
        catch (ParleyErrorException error) when (error.Code is ErrorCode.FileTooLarge or ErrorCode.QuotaExceeded or ErrorCode.HashMismatch or
                                                  ErrorCode.UnknownUser or ErrorCode.UnknownFile or ErrorCode.BadId or ErrorCode.RecipientQueueFull)
        {
            throw new UserError($"file refused: {error.Message}");
        }
    }

    /// <summary>Downloads with a progress display; errors a user can act on become one-line messages.</summary>
    public static async Task<string> GetAsync(Func<CancellationToken, Task<ParleyConnection>> connect, MessageId fileId, string folder, CancellationToken cancellationToken)
    {
        TransferProgress? progress = null;
        var downloader = new FileDownloader(connect)
        {
            Started = info => progress = new TransferProgress("receiving", FileNameSanitizer.Sanitize(info.Name)),
            Progress = (done, total) => progress?.Report(done, total),
        };
        try
        {
            return await downloader.DownloadAsync(fileId, folder, cancellationToken).ConfigureAwait(false);
        }
        catch (ParleyErrorException error) when (error.Code is ErrorCode.UnknownFile)
        {
            throw new UserError($"cannot get {fileId}: {error.Message}");
        }
        catch (InvalidDataException mismatch)
        {
            throw new UserError(mismatch.Message);
        }
    }

    public static bool TryParseId(string text, out MessageId id)
    {
        id = MessageId.None;
        if (text.Length != 32 || !text.All(Uri.IsHexDigit))
        {
            return false;
        }

        id = MessageId.Parse(text.ToLowerInvariant());
        return true;
    }
}
