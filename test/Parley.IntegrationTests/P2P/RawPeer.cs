using System.Buffers;
using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Parley.Client.P2P;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.IntegrationTests.P2P;

/// <summary>A hand-driven direct link, for hostile-peer tests: TLS with a chosen device key, then raw frames.</summary>
public sealed class RawPeer : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly SslStream _tls;

    private RawPeer(TcpClient client, SslStream tls)
    {
        _client = client;
        _tls = tls;
    }

    /// <summary>Connects to <paramref name="endpoint"/> presenting <paramref name="certificate"/>; accepts whatever key the other side has.</summary>
    public static async Task<RawPeer> ConnectAsync(string endpoint, X509Certificate2 certificate)
    {
        var colon = endpoint.LastIndexOf(':');
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(endpoint[..colon], int.Parse(endpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "parley-peer",
            ClientCertificates = [certificate],
            EnabledSslProtocols = SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        return new RawPeer(client, tls);
    }

    /// <summary>The device key of a P2P home (what its listen process presents).</summary>
    public static X509Certificate2 KeyOf(string home, string device) => DeviceCertificate.LoadOrCreate(home, device);

    public Task WriteAsync(Frame frame) => WriteRawAsync(FrameCodec.Encode(frame));

    public async Task WriteRawAsync(byte[] bytes)
    {
        await _tls.WriteAsync(bytes);
        await _tls.FlushAsync();
    }

    /// <summary>The next frame, or null when the other side has closed.</summary>
    public async Task<Frame?> ReadAsync()
    {
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        var prefix = new byte[4];
        try
        {
            if (await _tls.ReadAsync(prefix.AsMemory(0, 1), deadline.Token) == 0)
            {
                return null;
            }

            await _tls.ReadExactlyAsync(prefix.AsMemory(1), deadline.Token);
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(prefix);
            var body = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                await _tls.ReadExactlyAsync(body.AsMemory(0, length), deadline.Token);
                return FrameCodec.Decode(body.AsSpan(0, length), ProtocolLimits.Default);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }
        catch (Exception exception) when (exception is IOException or EndOfStreamException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _tls.DisposeAsync();
        _client.Dispose();
    }
}
