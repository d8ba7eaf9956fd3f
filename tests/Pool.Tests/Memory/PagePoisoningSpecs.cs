using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Netmem.Pool.Memory;
using Netmem.Pool.Tests.Dma;
using Xunit;

namespace Netmem.Pool.Tests.Memory;

/// <summary>
/// <see cref="SegmentedPageProvider.PoisonFreedPages"/>: free pages are filled with a pattern, and a write into one
/// ("device wrote after unmap") is caught when the page is reused, by the verification of free pages, or at the
/// provider's disposal, with the page named. Each spec plants the write the check must find.
/// </summary>
public sealed class PagePoisoningSpecs
{
    [Fact]
    public void A_write_into_a_freed_page_is_caught_when_the_page_is_reused_and_the_page_is_named_and_never_handed_out()
    {
        var violations = new ConcurrentQueue<PoisonViolation>();
        var provider = new HostPageProvider(4096, chunkBytes: 4 * 4096, maxPages: 4) { PoisonFreedPages = true, OnPoisonViolation = violations.Enqueue };
        Assert.True(provider.TryAllocatePage(out ulong page));
        nint address = provider.GetHostAddress(page);
        provider.ReleasePage(page);

        Marshal.WriteByte(address, 100, 0x42);
        var handedOut = new List<ulong>();
        while (provider.TryAllocatePage(out ulong next))
        {
            handedOut.Add(next);
        }

        PoisonViolation violation = Assert.Single(violations);
        Assert.Equal(page, violation.PageId);
        Assert.Equal(address, violation.HostAddress);
        Assert.Equal(100, violation.FirstChangedOffset);
        Assert.Equal(1, violation.ChangedBytes);
        Assert.True(violation.FoundOnReuse);
        Assert.Contains($"device wrote after unmap: page {page}", violation.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, provider.PoisonViolations);
        Assert.Equal(1, provider.PoisonedPagesRetired);
        Assert.DoesNotContain(page, handedOut);
        Assert.Equal(3, handedOut.Count);
    }

    [Fact]
    public void A_write_into_a_free_page_is_caught_by_the_verification_of_free_pages_and_at_disposal()
    {
        var violations = new ConcurrentQueue<PoisonViolation>();
        var provider = new HostPageProvider(4096, chunkBytes: 4 * 4096) { PoisonFreedPages = true, OnPoisonViolation = violations.Enqueue };
        Assert.True(provider.TryAllocatePage(out ulong first));
        Assert.True(provider.TryAllocatePage(out ulong second));
        nint firstAddress = provider.GetHostAddress(first);
        nint secondAddress = provider.GetHostAddress(second);
        provider.ReleasePage(first);
        provider.ReleasePage(second);
        Assert.Equal(0, provider.VerifyFreePages());

        Marshal.WriteInt64(firstAddress, 4088, -1);
        Assert.Equal(1, provider.VerifyFreePages());
        Assert.Equal(0, provider.VerifyFreePages());

        Marshal.WriteByte(secondAddress, 0, 0);
        provider.Dispose();

        Assert.Equal([(first, 4088, 8, false), (second, 0, 1, false)], violations.Select(v => (v.PageId, v.FirstChangedOffset, v.ChangedBytes, v.FoundOnReuse)));
        Assert.Equal(2, provider.PoisonViolations);
        Assert.Equal(0, provider.VerifyFreePages());
    }

    [Fact]
    public void A_page_with_an_extra_reference_is_poisoned_only_when_its_last_reference_goes()
    {
        var provider = new HostPageProvider(4096, chunkBytes: 4 * 4096) { PoisonFreedPages = true };
        Assert.True(provider.TryAllocatePage(out ulong page));
        provider.AddPageReference(page);
        provider.ReleasePage(page);

        // Still referenced: its holder may write; nothing is poisoned or checked yet.
        Marshal.WriteByte(provider.GetHostAddress(page), 7, 1);
        provider.ReleasePage(page);

        Assert.Equal(0, provider.VerifyFreePages());
        provider.Dispose();
        Assert.Equal(0, provider.PoisonViolations);
    }

    [Fact]
    public void Unreadable_device_memory_cannot_be_poisoned()
    {
        var refused = Assert.Throws<NotSupportedException>(() => new DeviceMemoryProvider(4) { PoisonFreedPages = true });
        Assert.Contains("cannot be poisoned", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The pool's end of it: a device writes through a mapping left to the domain after the revocation and before the
    /// teardown (legal: the pool still holds that memory), and nothing is reported; a write after the teardown let the
    /// memory go is caught, naming the page.
    /// </summary>
    [Fact]
    public void A_write_through_a_revoked_mapping_before_the_teardown_is_clean_and_one_after_it_is_caught()
    {
        var violations = new ConcurrentQueue<PoisonViolation>();
        var host = new HostPageProvider(4096, chunkBytes: 64 * 4096) { PoisonFreedPages = true, OnPoisonViolation = violations.Enqueue };
        var device = new StrictDevice();
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, host);
        NetmemRef held = pool.Allocate();
        nint address = AddressOf(held);

        pool.RevokeDeviceAccess();
        pool.Destroy();
        pool.Return(held);
        Marshal.WriteByte(address, 10, 0x11);
        Assert.Equal(0, host.VerifyFreePages());

        device.Unbind();
        pool.ReleaseAfterDomainTeardown();
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Equal(0, host.VerifyFreePages());
        Assert.Empty(violations);

        Marshal.WriteByte(address, 20, 0x22);
        Assert.Equal(1, host.VerifyFreePages());
        Assert.Contains("device wrote after unmap", Assert.Single(violations).ToString(), StringComparison.Ordinal);
        Assert.Equal(20, violations.Single().FirstChangedOffset);
    }

    private static unsafe nint AddressOf(NetmemRef page)
    {
        fixed (byte* at = page.GetSpan())
        {
            return (nint)at;
        }
    }
}
