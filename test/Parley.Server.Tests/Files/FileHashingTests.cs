using System.Security.Cryptography;
using Parley.IO;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Files;

/// <summary><see cref="FileHashing"/>: the stretch of a real file it is asked for, no byte more or less.</summary>
public sealed class FileHashingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Theory]
    [InlineData(0, 3_000_000, true)] // across several buffers, dropping behind
    [InlineData(1_000_000, 2_500_001, false)] // from a position to a bound short of the end
    [InlineData(5, 5, true)] // nothing to read
    public async Task AppendAsync_HashesFromPositionToEnd(int from, int to, bool dropBehind)
    {
        var bytes = RandomNumberGenerator.GetBytes(3_000_000);
        var path = _dir.Combine("file.bin");
        await File.WriteAllBytesAsync(path, bytes);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([1, 2, 3]); // what the caller hashed before: kept

        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true))
        {
            file.Position = from;
            await FileHashing.AppendAsync(hash, file, to, dropBehind, CancellationToken.None);
            Assert.Equal(to, file.Position);
        }

        Assert.Equal(SHA256.HashData([1, 2, 3, .. bytes.AsSpan(from, to - from)]), hash.GetHashAndReset());
    }

    [Fact]
    public async Task AppendAsync_FileShorterThanTheEnd_EndOfStream()
    {
        var path = _dir.Combine("short.bin");
        await File.WriteAllBytesAsync(path, new byte[1000]);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);

        var error = await Assert.ThrowsAsync<EndOfStreamException>(() => FileHashing.AppendAsync(hash, file, 2000, dropBehind: false, CancellationToken.None));
        Assert.Contains("1000 of 2000", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
