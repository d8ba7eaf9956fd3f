using Netmem.Pool;

namespace Netmem.Stack.Rx;

/// <summary>One received frame: the page it was DMA'd into, and where in the page it lies.</summary>
/// <remarks>Whoever holds an <see cref="RxFrame"/> owns <see cref="Netmem"/> and must return it exactly once.</remarks>
public readonly record struct RxFrame(NetmemRef Netmem, int Offset, int Length);
