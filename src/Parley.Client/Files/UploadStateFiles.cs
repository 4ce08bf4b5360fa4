using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.IO;
using Parley.Protocol;

namespace Parley.Client.Files;

/// <summary>
/// The resume state of outgoing files, one JSON file per (local file, recipient) in a folder of the home: HOME/uploads
/// for uploads to the server, HOME/uploads-p2p for direct transfers. Shared by both paths so that a file sent again
/// after an interruption keeps its id and is not hashed again.
/// </summary>
internal static class UploadStateFiles
{
    /// <summary>
    /// The saved state when the file is unchanged (size, time, name); otherwise saves a new id, with the file's hash
    /// when <paramref name="hashNow"/> (P2P, and servers before protocol version 2, need it before the first byte) and
    /// with an empty one otherwise (<see cref="WithHashAsync"/> adds it later if needed).
    /// </summary>
    public static async Task<UploadResumeState> LoadOrCreateAsync(string folder, string path, string to, string? wireName, CancellationToken cancellationToken,
        bool hashNow = true)
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

        var sha = hashNow ? await HashFileAsync(path, cancellationToken).ConfigureAwait(false) : string.Empty;
        var state = new UploadResumeState(MessageId.NewRandom().ToString(), path, to, name, info.Length, info.LastWriteTimeUtc.Ticks, sha);
        await SaveAsync(folder, state, cancellationToken).ConfigureAwait(false);
        return state;
    }

    /// <summary>The state with the file's SHA-256, hashing the file and saving the state if it had none yet.</summary>
    public static async Task<UploadResumeState> WithHashAsync(string folder, UploadResumeState state, CancellationToken cancellationToken)
    {
        if (state.Sha256.Length != 0)
        {
            return state;
        }

        var hashed = state with { Sha256 = await HashFileAsync(state.Path, cancellationToken).ConfigureAwait(false) };
        await SaveAsync(folder, hashed, cancellationToken).ConfigureAwait(false);
        return hashed;
    }

    private static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            // Left in the page cache: an upload to a version-1 server reads the file again at once to send it.
            await FileHashing.AppendAsync(hash, file, file.Length, dropBehind: false, cancellationToken).ConfigureAwait(false);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task SaveAsync(string folder, UploadResumeState state, CancellationToken cancellationToken)
    {
        var statePath = StatePath(folder, state.Path, state.To);
        Directory.CreateDirectory(folder);
        var temporary = statePath + ".tmp";
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(state), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, statePath, overwrite: true);
    }

    /// <summary>Drops the state of a finished (or refused) transfer.</summary>
    public static void Forget(string folder, UploadResumeState state) => File.Delete(StatePath(folder, state.Path, state.To));

    /// <summary>One state file per (local file, recipient); its name is a hash, so no path characters reach the file system.</summary>
    private static string StatePath(string folder, string path, string to) =>
        Path.Combine(folder, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path + "\n" + to)))[..32] + ".json");
}
