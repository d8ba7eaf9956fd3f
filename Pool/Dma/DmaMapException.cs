namespace Netmem.Pool.Dma;

/// <summary>A device refused to map a buffer (IOVA space exhausted, injected fault, unbound device).</summary>
public sealed class DmaMapException : Exception
{
    public DmaMapException(string message)
        : base(message)
    {
    }
}
