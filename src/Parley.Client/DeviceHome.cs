using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Parley.Security;

namespace Parley.Client;

/// <summary>
/// The folder where one device keeps its state (PARLEY_HOME or --home; default ~/.parley): profile.json (server,
/// user, device id), one resume token per <see cref="DeviceRole"/> (mode 0600), the cursor (the last log sequence
/// shown), and known_servers (pinned server keys). Several users can run on one machine with one home each.
/// </summary>
public sealed class DeviceHome
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public DeviceHome(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        KnownServers = new KnownServers(System.IO.Path.Combine(Path, "known_servers"));
    }

    public string Path { get; }

    public KnownServers KnownServers { get; }

    /// <summary>The home from --home, else PARLEY_HOME, else ~/.parley.</summary>
    public static DeviceHome Resolve(string? option)
    {
        var path = option ?? Environment.GetEnvironmentVariable("PARLEY_HOME");
        if (string.IsNullOrWhiteSpace(path))
        {
            path = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".parley");
        }

        return new DeviceHome(path);
    }

    /// <summary>A new device id: random, so two homes of one user never collide.</summary>
    public static string NewDeviceId() => "d" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>The device id used for a role.</summary>
    public static string DeviceFor(DeviceProfile profile, DeviceRole role) =>
        role == DeviceRole.Interactive ? profile.Device : profile.Device + "-cli";

    public DeviceProfile? LoadProfile()
    {
        var file = File("profile.json");
        return System.IO.File.Exists(file) ? JsonSerializer.Deserialize<DeviceProfile>(System.IO.File.ReadAllText(file), Json) : null;
    }

    public void SaveProfile(DeviceProfile profile) => WriteAtomic("profile.json", JsonSerializer.SerializeToUtf8Bytes(profile, Json));

    public byte[]? LoadToken(DeviceRole role)
    {
        var file = File(TokenFile(role));
        return System.IO.File.Exists(file) ? System.IO.File.ReadAllBytes(file) : null;
    }

    /// <summary>Saves a token at once: tokens rotate on every login, so a lost one means typing the password again.</summary>
    public void SaveToken(DeviceRole role, byte[] token) => WriteAtomic(TokenFile(role), token);

    public void DeleteTokens()
    {
        foreach (var role in Enum.GetValues<DeviceRole>())
        {
            System.IO.File.Delete(File(TokenFile(role)));
        }
    }

    /// <summary>The last sequence of the user's log this device has shown (0 when none).</summary>
    /// <summary>
    /// The home's P2P setting (`parley p2p on|off`, file "p2p"): when on, chat, listen and send run in P2P mode
    /// without --p2p. PARLEY_P2P=1 turns it on from the environment.
    /// </summary>
    public bool P2PEnabled
    {
        get => System.IO.File.Exists(File("p2p")) && System.IO.File.ReadAllText(File("p2p")).Trim() == "on"
            || Environment.GetEnvironmentVariable("PARLEY_P2P") is "1" or "on" or "true";
        set => WriteAtomic("p2p", System.Text.Encoding.ASCII.GetBytes(value ? "on\n" : "off\n"));
    }

    public ulong LoadCursor()
    {
        var file = File("cursor");
        return System.IO.File.Exists(file) && ulong.TryParse(System.IO.File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var cursor)
            ? cursor
            : 0;
    }

    public void SaveCursor(ulong cursor) => WriteAtomic("cursor", System.Text.Encoding.ASCII.GetBytes(cursor.ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// Takes the home's lock for a role, so two processes never use one device's token at once (the loser of such a
    /// race would find its token already rotated). Returns null when another process holds it.
    /// </summary>
    public FileStream? TryLock(DeviceRole role)
    {
        EnsureExists();
        try
        {
            return new FileStream(File(role == DeviceRole.Interactive ? "interactive.lock" : "cli.lock"), FileMode.OpenOrCreate,
                FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Waits for the lock of a role (one-shot commands queue behind each other).</summary>
    public async Task<FileStream> LockAsync(DeviceRole role, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryLock(role) is { } held)
            {
                return held;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    public void EnsureExists()
    {
        Directory.CreateDirectory(Path);
        if (!OperatingSystem.IsWindows())
        {
            System.IO.File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static string TokenFile(DeviceRole role) => role == DeviceRole.Interactive ? "token" : "token-cli";

    private string File(string name) => System.IO.Path.Combine(Path, name);

    private void WriteAtomic(string name, byte[] content)
    {
        EnsureExists();
        var target = File(name);
        var temp = target + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            if (!OperatingSystem.IsWindows())
            {
                System.IO.File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        System.IO.File.Move(temp, target, overwrite: true);
    }
}
