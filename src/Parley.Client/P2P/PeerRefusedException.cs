namespace Parley.Client.P2P;

/// <summary>A direct link was refused: a key that is not the directory's, a HELLO naming someone else, or the peer said no.</summary>
public sealed class PeerRefusedException : Exception
{
    public PeerRefusedException()
    {
    }

    public PeerRefusedException(string message)
        : base(message)
    {
    }

    public PeerRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
