using System.Security.Cryptography;

namespace Parley.Security;

/// <summary>
/// Resume tokens (security.md 19): 256-bit random bearer secrets given to the client, of which the server keeps only
/// the SHA-256, so a leaked database does not let anyone resume a session. A token has full entropy, so a plain
/// (unsalted, fast) hash is enough; a slow password hash would only cost CPU.
/// </summary>
public static class ResumeTokens
{
    /// <summary>Token length in bytes (256 bits).</summary>
    public const int TokenSize = 32;

    /// <summary>A fresh token from the operating system's CSPRNG.</summary>
    public static byte[] NewToken() => RandomNumberGenerator.GetBytes(TokenSize);

    /// <summary>The value to store and look up: SHA-256 of the token.</summary>
    public static byte[] HashToken(ReadOnlySpan<byte> token) => SHA256.HashData(token);

    /// <summary>True when <paramref name="token"/> hashes to <paramref name="storedHash"/>; compares in fixed time.</summary>
    public static bool Matches(ReadOnlySpan<byte> token, ReadOnlySpan<byte> storedHash)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(token, hash);
        return CryptographicOperations.FixedTimeEquals(hash, storedHash);
    }
}
