using Netmem.Pool;

namespace Netmem.Stack.Rx;

/// <summary>One received frame: the page it was DMA'd into, and where in the page it lies.</summary>
/// <remarks>Whoever holds an <see cref="RxFrame"/> owns <see cref="Netmem"/> and must return it exactly once. A batch
/// of frames is synced for the CPU in one call (<see cref="PagePool.SyncForCpu{TRange}(ReadOnlySpan{TRange})"/>).</remarks>
public readonly record struct RxFrame(NetmemRef Netmem, int Offset, int Length) : ICpuSyncRange;
