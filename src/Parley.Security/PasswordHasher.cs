using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Parley.Security;

/// <summary>
/// Hashes and verifies passwords with Argon2id (NSec/libsodium) and stores them as PHC strings
/// (<c>$argon2id$v=19$m=19456,t=2,p=1$salt$hash</c>) so that every stored hash carries its own parameters
/// (security.md 14). Verification compares in fixed time, treats a malformed stored string as a mismatch instead of
/// throwing, and <see cref="VerifyDummy"/> lets an unknown user cost as much as a wrong password (security.md 15).
/// <see cref="HashCount"/> counts every Argon2id computation so tests can prove that throttled attempts compute none
/// (security.md 16). Passwords are normalised to NFC before UTF-8 encoding so that the same visible password typed
/// on two keyboards yields the same hash. Thread-safe.
/// </summary>
public sealed class PasswordHasher
{
    /// <summary>Salt length in bytes; libsodium's Argon2id accepts exactly 16.</summary>
    public const int SaltSize = 16;

    /// <summary>Length of the derived hash in bytes.</summary>
    public const int HashSize = 32;

    private const string Prefix = "$argon2id$v=19$";

    // Bounds applied to parameters read back from a stored PHC string, so that a corrupted or hostile row cannot
    // ask for terabytes of memory or hours of CPU.
    private const int MaxMemoryKiB = 4 * 1024 * 1024;
    private const int MaxIterations = 1024;
    private const int MinStoredHashSize = 16;
    private const int MaxStoredHashSize = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly byte[] DummySalt = RandomNumberGenerator.GetBytes(SaltSize);
    private static readonly byte[] DummyHash = RandomNumberGenerator.GetBytes(HashSize);

    private readonly PasswordHashOptions _options;
    private readonly Argon2id _algorithm;
    private long _hashCount;

    public PasswordHasher(PasswordHashOptions? options = null)
    {
        _options = options ?? PasswordHashOptions.Default;
        if (_options.Parallelism != 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.Parallelism, "libsodium's Argon2id supports only Parallelism = 1.");
        }

        if (_options.MemoryKiB < 8 || _options.MemoryKiB > MaxMemoryKiB)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.MemoryKiB, $"MemoryKiB must be between 8 and {MaxMemoryKiB}.");
        }

        if (_options.Iterations < 1 || _options.Iterations > MaxIterations)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.Iterations, $"Iterations must be between 1 and {MaxIterations}.");
        }

        _algorithm = CreateAlgorithm(_options.MemoryKiB, _options.Iterations);
    }

    /// <summary>The parameters new hashes are made with.</summary>
    public PasswordHashOptions Options => _options;

    /// <summary>How many Argon2id computations this instance has run (hash, verify and dummy alike).</summary>
    public long HashCount => Interlocked.Read(ref _hashCount);

    /// <summary>Hashes <paramref name="password"/> with a fresh random salt and returns the PHC string.</summary>
    /// <exception cref="ArgumentException">The password is not valid Unicode (a lone surrogate).</exception>
    public string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryEncode(password, out var passwordBytes))
        {
            throw new ArgumentException("The password is not valid Unicode.", nameof(password));
        }

        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var hash = new byte[HashSize];
        try
        {
            Derive(_algorithm, passwordBytes, salt, hash);
            return Format(_options.MemoryKiB, _options.Iterations, _options.Parallelism, salt, hash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
            CryptographicOperations.ZeroMemory(hash);
        }
    }

    /// <summary>
    /// True when <paramref name="password"/> matches the stored <paramref name="phc"/> string. Uses the parameters
    /// stored in the string, compares in fixed time, and returns false (computing nothing) for a malformed string.
    /// </summary>
    public bool Verify(string password, string phc)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(phc, out var stored))
        {
            return false;
        }

        // An invalid password still costs a full hash, so its timing says nothing; it can never match.
        var valid = TryEncode(password, out var passwordBytes);
        var algorithm = stored.MemoryKiB == _options.MemoryKiB && stored.Iterations == _options.Iterations
            ? _algorithm
            : CreateAlgorithm(stored.MemoryKiB, stored.Iterations);
        var computed = new byte[stored.Hash.Length];
        try
        {
            Derive(algorithm, passwordBytes, stored.Salt, computed);
            return CryptographicOperations.FixedTimeEquals(computed, stored.Hash) & valid;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
            CryptographicOperations.ZeroMemory(computed);
        }
    }

    /// <summary>
    /// Runs a hash and a fixed-time comparison of the same cost as <see cref="Verify"/> against a fixed dummy, and
    /// discards the result: call it for an unknown user so that the answer takes as long as for a wrong password.
    /// </summary>
    public void VerifyDummy(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        TryEncode(password, out var passwordBytes);
        var computed = new byte[HashSize];
        try
        {
            Derive(_algorithm, passwordBytes, DummySalt, computed);
            _ = CryptographicOperations.FixedTimeEquals(computed, DummyHash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
            CryptographicOperations.ZeroMemory(computed);
        }
    }

    /// <summary>
    /// True when <paramref name="phc"/> was made with other parameters (or sizes) than the current options, or is
    /// malformed: after a successful <see cref="Verify"/>, the caller should store a fresh <see cref="Hash"/>.
    /// </summary>
    public bool NeedsRehash(string phc)
    {
        if (!TryParse(phc, out var stored))
        {
            return true;
        }

        return stored.MemoryKiB != _options.MemoryKiB
            || stored.Iterations != _options.Iterations
            || stored.Parallelism != _options.Parallelism
            || stored.Salt.Length != SaltSize
            || stored.Hash.Length != HashSize;
    }

    private static Argon2id CreateAlgorithm(int memoryKiB, int iterations) =>
        PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
        {
            DegreeOfParallelism = 1,
            MemorySize = memoryKiB,
            NumberOfPasses = iterations,
        });

    private void Derive(Argon2id algorithm, ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, Span<byte> output)
    {
        Interlocked.Increment(ref _hashCount);
        algorithm.DeriveBytes(password, salt, output);
    }

    private static bool TryEncode(string password, out byte[] bytes)
    {
        try
        {
            bytes = StrictUtf8.GetBytes(password.Normalize(NormalizationForm.FormC));
            return true;
        }
        catch (ArgumentException)
        {
            // Lone surrogates: hash something of similar size so that the caller's timing does not depend on it.
            bytes = Encoding.UTF8.GetBytes(password);
            return false;
        }
    }

    private static string Format(int memoryKiB, int iterations, int parallelism, byte[] salt, byte[] hash) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}m={memoryKiB},t={iterations},p={parallelism}${EncodeB64(salt)}${EncodeB64(hash)}");

    private static string EncodeB64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static bool TryParse(string? phc, out StoredHash stored)
    {
        stored = default;
        if (phc is null || phc.Length > 512 || !phc.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = phc[Prefix.Length..].Split('$');
        if (parts.Length != 3)
        {
            return false;
        }

        var parameters = parts[0].Split(',');
        if (parameters.Length != 3
            || !TryParseParameter(parameters[0], "m=", out var memoryKiB)
            || !TryParseParameter(parameters[1], "t=", out var iterations)
            || !TryParseParameter(parameters[2], "p=", out var parallelism))
        {
            return false;
        }

        if (parallelism != 1 || memoryKiB < 8 || memoryKiB > MaxMemoryKiB || iterations < 1 || iterations > MaxIterations)
        {
            return false;
        }

        if (!TryDecodeB64(parts[1], out var salt) || salt.Length != SaltSize
            || !TryDecodeB64(parts[2], out var hash) || hash.Length < MinStoredHashSize || hash.Length > MaxStoredHashSize)
        {
            return false;
        }

        stored = new StoredHash(memoryKiB, iterations, parallelism, salt, hash);
        return true;
    }

    private static bool TryParseParameter(string text, string name, out int value)
    {
        value = 0;
        return text.StartsWith(name, StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(name.Length), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryDecodeB64(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || text.Length % 4 == 1)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(c is >= 'A' and <= 'Z' || c is >= 'a' and <= 'z' || c is >= '0' and <= '9' || c is '+' or '/'))
            {
                return false;
            }
        }

        var padded = text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
        var buffer = new byte[padded.Length / 4 * 3];
        if (!Convert.TryFromBase64String(padded, buffer, out var written))
        {
            return false;
        }

        bytes = buffer[..written];
        return true;
    }

    private readonly record struct StoredHash(int MemoryKiB, int Iterations, int Parallelism, byte[] Salt, byte[] Hash);
}
