namespace Parley.Storage.Nats;

/// <summary>
/// NATS is missing, unreachable or not set up as Parley needs (JetStream off, a stream with other settings). The
/// message says what is wrong and what to do, for an operator reading a failed start.
/// </summary>
public sealed class NatsStoreException : Exception
{
    public NatsStoreException()
    {
    }

    public NatsStoreException(string message)
        : base(message)
    {
    }

    public NatsStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
