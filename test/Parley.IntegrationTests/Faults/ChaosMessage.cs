using Parley.Protocol;

namespace Parley.IntegrationTests.Faults;

/// <summary>One message of a chaos sender: its id is made once and kept for every retry.</summary>
public sealed class ChaosMessage
{
    private volatile bool _acknowledged;

    public ChaosMessage(string sender, int index)
    {
        Sender = sender;
        Index = index;
        Text = $"{sender} {index}";
    }

    public string Sender { get; }

    /// <summary>The position in the sender's send order.</summary>
    public int Index { get; }

    public MessageId Id { get; } = MessageId.NewRandom();

    public string Text { get; }

    /// <summary>The server answered SEND_OK: it is stored durably.</summary>
    public bool Acknowledged => _acknowledged;

    /// <summary>How many times it was sent (on how many connections).</summary>
    public int Attempts { get; internal set; }

    internal void MarkAcknowledged() => _acknowledged = true;
}
