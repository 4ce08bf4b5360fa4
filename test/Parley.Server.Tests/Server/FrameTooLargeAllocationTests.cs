using System.Buffers.Binary;
using System.Diagnostics;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 5: a huge declared length is refused from the header alone, allocating nothing for the body.</summary>
[Collection(SerialCollection.Name)]
public sealed class FrameTooLargeAllocationTests
{
    [Trait("Security", "5")]
    [Theory]
    [InlineData(0x8000_0000u)]
    [InlineData(0xFFFF_FFFFu)]
    public async Task FrameHeader_TwoGiB_ClosedQuicklyWithoutAllocatingTheBody(uint declared)
    {
        await using var server = await TestServer.StartAsync();
        var (connection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var header = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(header, declared);
        header[4] = 0x10;

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        await connection.WriteRawAsync(header);
        var closed = await connection.ClosedAsync();
        clock.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.Equal(ErrorCode.FrameTooLarge, closed.Error?.Code);
        Assert.True(allocated < 2 * 1024 * 1024, $"{allocated} bytes allocated while refusing the frame");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"closed after {clock.Elapsed}");
    }
}
