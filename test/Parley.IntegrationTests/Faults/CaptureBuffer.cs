namespace Parley.IntegrationTests.Faults;

/// <summary>The bytes one proxied connection carried upstream, bounded by a budget shared by the whole proxy.</summary>
internal sealed class CaptureBuffer
{
    private readonly MemoryStream _bytes = new();
    private readonly Func<int, int> _takeBudget;

    public CaptureBuffer(Func<int, int> takeBudget) => _takeBudget = takeBudget;

    public bool Truncated { get; private set; }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        var granted = _takeBudget(bytes.Length);
        lock (_bytes)
        {
            _bytes.Write(bytes[..granted]);
            Truncated |= granted < bytes.Length;
        }
    }

    public byte[] ToArray()
    {
        lock (_bytes)
        {
            return _bytes.ToArray();
        }
    }
}
