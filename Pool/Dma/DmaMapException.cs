namespace Netmem.Pool.Dma;

/// <summary>A device refused to map a buffer (IOVA space exhausted, injected fault, unbound device).</summary>
public sealed class DmaMapException : Exception
{
    /// <summary>Creates the exception with a message naming the device and the buffer it refused.</summary>
    public DmaMapException(string message)
        : base(message)
    {
    }
}
