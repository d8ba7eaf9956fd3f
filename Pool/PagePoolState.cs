namespace Netmem.Pool;

/// <summary>Lifecycle of a pool.</summary>
public enum PagePoolState
{
    /// <summary>Allocating and recycling.</summary>
    Active,

    /// <summary>Destroy is running: no allocation, no recycling; mappings are being torn down.</summary>
    Destroying,

    /// <summary>Destroyed and detached from its device; pages still held elsewhere come back as late returns.</summary>
    Detached,

    /// <summary>Every page is back and freed; the pool's item blocks serve other pools.</summary>
    Released,
}
