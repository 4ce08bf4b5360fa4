using Microsoft.Extensions.Logging;
using Parley.Server.Accounts;
using Parley.Server.Sessions;
using Parley.Storage;

namespace Parley.Server.Connections;

/// <summary>What every connection of one server shares.</summary>
internal sealed record ConnectionServices(
    ServerOptions Options,
    IChatStore Store,
    SessionRegistry Registry,
    Authenticator Authenticator,
    ServerMetrics Metrics,
    ConnectionLimiter Limiter,
    ILogger Logger,
    P2P.PeerDirectory Directory,
    Files.BlobStore? Blobs = null);
