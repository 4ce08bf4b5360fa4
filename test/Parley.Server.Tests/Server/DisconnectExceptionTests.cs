using System.Runtime.ExceptionServices;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>
/// A disconnect costs no exception. Every synced session used to end its delivery loop with an
/// OperationCanceledException when its connection closed: one thrown and caught per disconnect, CPU spent on nothing
/// (an exception trace of W3 counted 1,000 for 1,000 connections). Serial: it watches the whole process.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class DisconnectExceptionTests
{
    [Fact]
    public async Task SyncedSessionsDisconnect_DeliveryLoopsEndWithoutAnException()
    {
        await using var server = await TestServer.StartAsync();
        var thrown = 0;
        void Count(object? sender, FirstChanceExceptionEventArgs e)
        {
            // The whole stack at the throw: the exception's own trace holds only the frames it has unwound so far.
            if (e.Exception is OperationCanceledException && Environment.StackTrace.Contains("DeliveryLoopAsync", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref thrown);
            }
        }

        AppDomain.CurrentDomain.FirstChanceException += Count;
        try
        {
            for (var i = 0; i < 10; i++)
            {
                var (connection, _) = await server.RegisterAsync(UniqueNames.Next("idle"));
                await connection.SyncAllAsync(0);
                await connection.DisposeAsync();
            }

            await server.WaitForServerConnectionsAsync();
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }

        Assert.Equal(0, thrown);
    }
}
