using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.Protocol;

namespace Parley.Client.Files;

/// <summary>
/// The resume state of outgoing files, one JSON file per (local file, recipient) in a folder of the home: HOME/uploads
/// for uploads to the server, HOME/uploads-p2p for direct transfers. Shared by both paths so that a file sent again
/// after an interruption keeps its id and is not hashed again.
/// </summary>
internal static class UploadStateFiles
{
    /// <summary>The saved state when the file is unchanged (size, time, name); otherwise hashes it and saves a new id.</summary>
    public static async Task<UploadResumeState> LoadOrCreateAsync(string folder, string path, string to, string? wireName, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"no such file: {path}", path);
        }

        var name = wireName ?? info.Name;
        var statePath = StatePath(folder, path, to);
        if (File.Exists(statePath))
        {
            try
            {
                var saved = JsonSerializer.Deserialize<UploadResumeState>(await File.ReadAllTextAsync(statePath, cancellationToken).ConfigureAwait(false));
                if (saved is not null && saved.Size == info.Length && saved.LastWriteTicks == info.LastWriteTimeUtc.Ticks && saved.Name == name)
                {
                    return saved;
                }
            }
            catch (JsonException)
            {
                // torn state file: start over below
            }
        }

        byte[] sha;
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            sha = await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
        }

        var state = new UploadResumeState(MessageId.NewRandom().ToString(), path, to, name, info.Length, info.LastWriteTimeUtc.Ticks, Convert.ToHexStringLower(sha));
        Directory.CreateDirectory(folder);
        var temporary = statePath + ".tmp";
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(state), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, statePath, overwrite: true);
        return state;
    }

    /// <summary>Drops the state of a finished (or refused) transfer.</summary>
    public static void Forget(string folder, UploadResumeState state) => File.Delete(StatePath(folder, state.Path, state.To));

    /// <summary>One state file per (local file, recipient); its name is a hash, so no path characters reach the file system.</summary>
    private static string StatePath(string folder, string path, string to) =>
        Path.Combine(folder, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path + "\n" + to)))[..32] + ".json");
}
