namespace Parley.Protocol.Tests;

/// <summary>Hand-written byte literals: hex digits with any whitespace between them.</summary>
internal static class Hex
{
    public static byte[] Parse(string hex) =>
        Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));
}
