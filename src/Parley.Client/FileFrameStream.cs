using System.Threading.Channels;
using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>The frames the server sends about one file, in order; disposing it stops routing them here.</summary>
public sealed class FileFrameStream(ChannelReader<Frame> frames, Action close) : IDisposable
{
    public ChannelReader<Frame> Frames { get; } = frames;

    /// <summary>The next frame; an ERROR becomes <see cref="ParleyErrorException"/>, a closed connection <see cref="IOException"/>.</summary>
    public async Task<Frame> ReadAsync(CancellationToken cancellationToken)
    {
        Frame frame;
        try
        {
            frame = await Frames.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException closed)
        {
            throw closed.InnerException as IOException ?? new IOException("the connection is closed", closed);
        }

        return frame is ErrorFrame error ? throw new ParleyErrorException(error.Code, error.Message) : frame;
    }

    public void Dispose() => close();
}
