namespace Netmem.Pool.Dma;

/// <summary>Direction of a streaming DMA mapping, as in the kernel's <c>enum dma_data_direction</c>.</summary>
public enum DmaDirection
{
    /// <summary>The device writes into the page (RX).</summary>
    FromDevice,

    /// <summary>The device both reads and writes the page (XDP_TX).</summary>
    Bidirectional,
}
