using System.Runtime.InteropServices;

namespace Netmem.Pool.Core;

/// <summary>
/// The tracking record of one page: 16 bytes, like the seed's <c>struct page_pool_item</c>.
/// </summary>
/// <remarks>
/// <see cref="Page"/> is a union, as the kernel's <c>pp_netmem</c>/<c>lentry</c>: while the item tracks a page it is
/// the provider's page id; while the item is free it is the index of the next free item. Only the owner of the
/// item in its current lifecycle writes it, and readers first check <see cref="State"/>.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct ItemSlot
{
    public long State;
    public ulong Page;
}
