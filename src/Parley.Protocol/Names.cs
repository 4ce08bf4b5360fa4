using System.Text;

namespace Parley.Protocol;

/// <summary>
/// The rules for user names and device ids (security.md 8). A user name is normalised (NFC, lower case) and must
/// then match <c>[a-z0-9._-]{1,64}</c>, so <c>Alice</c> and <c>alice</c> are one account; a device id must match
/// <c>[A-Za-z0-9._-]{1,64}</c>.
/// </summary>
public static class Names
{
    public const int MaxLength = 64;

    /// <summary>Returns the canonical form of <paramref name="user"/>, or throws <see cref="ProtocolException"/> (BadId).</summary>
    public static string NormalizeUser(string user)
    {
        if (!TryNormalizeUser(user, out var normalized))
        {
            ProtocolException.Throw(ErrorCode.BadId, $"bad user name: use 1-{MaxLength} of a-z 0-9 . _ -");
        }

        return normalized;
    }

    public static bool TryNormalizeUser(string user, out string normalized)
    {
        normalized = string.Empty;
        if (string.IsNullOrEmpty(user) || user.Length > MaxLength * 4)
        {
            return false;
        }

        string candidate;
        try
        {
            candidate = user.Normalize(NormalizationForm.FormC).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return false; // lone surrogates cannot be normalised
        }

        if (candidate.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in candidate)
        {
            if (!(c is >= 'a' and <= 'z' || c is >= '0' and <= '9' || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        normalized = candidate;
        return true;
    }

    /// <summary>
    /// Prefix of a guest's name (docs/seed-compat.md): someone who connected with the design note's old client has no
    /// account and is addressed as <c>~name</c>, like IRC's mark for an unidentified user. No account can be called
    /// that (<see cref="TryNormalizeUser"/> refuses <c>~</c>), so a guest can never pass for a user.
    /// </summary>
    public const char GuestPrefix = '~';

    /// <summary>
    /// A name a message may be addressed to: a user name, or a guest's name (<see cref="GuestPrefix"/> then a user
    /// name). Logins and registrations use <see cref="TryNormalizeUser"/>, which refuses guest names.
    /// </summary>
    public static bool TryNormalizeRecipient(string name, out string normalized)
    {
        if (!string.IsNullOrEmpty(name) && name[0] == GuestPrefix)
        {
            var ok = TryNormalizeUser(name[1..], out var bare);
            normalized = ok ? GuestPrefix + bare : string.Empty;
            return ok;
        }

        return TryNormalizeUser(name, out normalized);
    }

    /// <summary>Whether <paramref name="name"/> (already normalised) is a guest's name.</summary>
    public static bool IsGuest(string name) => name.Length > 1 && name[0] == GuestPrefix;

    public static bool IsValidDevice(string device)
    {
        if (string.IsNullOrEmpty(device) || device.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in device)
        {
            if (!(c is >= 'a' and <= 'z' || c is >= 'A' and <= 'Z' || c is >= '0' and <= '9' || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
