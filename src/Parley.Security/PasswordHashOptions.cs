namespace Parley.Security;

/// <summary>
/// Argon2id cost parameters for <see cref="PasswordHasher"/>. The defaults are the OWASP floor (m = 19 MiB, t = 2,
/// p = 1, security.md 14); they live in a record so that tests can run with cheap parameters and so that an operator
/// can raise them later: stored hashes keep their own parameters and <see cref="PasswordHasher.NeedsRehash"/> tells
/// the login path to rewrite them after the next successful login.
/// </summary>
public sealed record PasswordHashOptions
{
    /// <summary>The OWASP-floor parameters used in production.</summary>
    public static PasswordHashOptions Default { get; } = new();

    /// <summary>Memory cost <c>m</c> in KiB (libsodium accepts 8 KiB and more).</summary>
    public int MemoryKiB { get; init; } = 19456;

    /// <summary>Number of passes <c>t</c> (at least 1).</summary>
    public int Iterations { get; init; } = 2;

    /// <summary>Degree of parallelism <c>p</c>. libsodium (and so NSec) supports only 1.</summary>
    public int Parallelism { get; init; } = 1;
}
