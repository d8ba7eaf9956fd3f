using System.Runtime.InteropServices;
using Netmem.Pool.Memory;
using Xunit;

namespace Netmem.Pool.Tests.Memory;

public sealed class HostPageProviderSpecs
{
    [Fact]
    public void Pages_are_distinct_page_aligned_and_writable_across_chunks()
    {
        using var provider = new HostPageProvider(4096, chunkBytes: 4 * 4096);
        var pages = new List<ulong>();
        for (int i = 0; i < 10; i++)
        {
            Assert.True(provider.TryAllocatePage(out ulong page));
            pages.Add(page);
        }

        nint[] addresses = pages.Select(provider.GetHostAddress).ToArray();
        Assert.Equal(10, pages.Distinct().Count());
        Assert.Equal(10, addresses.Distinct().Count());
        Assert.All(addresses, a => Assert.Equal(0, a % 4096));
        for (int i = 0; i < pages.Count; i++)
        {
            Span(provider, pages[i]).Fill((byte)i);
        }

        for (int i = 0; i < pages.Count; i++)
        {
            Assert.All(Span(provider, pages[i]).ToArray(), b => Assert.Equal((byte)i, b));
        }

        Assert.Equal(10, provider.OutstandingPages);
        Assert.True(provider.IsReadable);
        pages.ForEach(provider.ReleasePage);
        Assert.Equal(0, provider.OutstandingPages);
    }

    [Fact]
    public void A_page_is_freed_only_when_its_last_reference_is_released_and_is_then_reused()
    {
        using var provider = new HostPageProvider(4096, chunkBytes: 4096);
        Assert.True(provider.TryAllocatePage(out ulong page));

        provider.AddPageReference(page);
        provider.ReleasePage(page);
        Assert.Equal(1, provider.GetReferenceCount(page));
        Assert.Equal(1, provider.OutstandingPages);
        provider.ReleasePage(page);

        Assert.Equal(0, provider.GetReferenceCount(page));
        Assert.Equal(0, provider.OutstandingPages);
        Assert.True(provider.TryAllocatePage(out ulong again));
        Assert.Equal(page, again);
        provider.ReleasePage(again);
    }

    [Fact]
    public void Releasing_a_free_page_or_referencing_it_is_refused_without_changing_its_count()
    {
        using var provider = new HostPageProvider(4096, chunkBytes: 4096);
        Assert.True(provider.TryAllocatePage(out ulong page));
        provider.ReleasePage(page);

        Assert.Throws<InvalidOperationException>(() => provider.ReleasePage(page));
        Assert.Throws<InvalidOperationException>(() => provider.AddPageReference(page));

        Assert.Equal(0, provider.GetReferenceCount(page));
        Assert.Equal(0, provider.OutstandingPages);
    }

    [Fact]
    public void Disposing_when_empty_waits_for_the_last_page_and_then_frees_the_memory_once()
    {
        var provider = new HostPageProvider(4096, chunkBytes: 16 * 4096);
        Assert.True(provider.TryAllocatePage(out ulong page));
        provider.AddPageReference(page);

        provider.DisposeWhenEmpty();
        provider.ReleasePage(page);
        Assert.True(provider.TryAllocatePage(out ulong again), "the provider was freed while a page was still referenced");
        provider.ReleasePage(again);
        provider.ReleasePage(page);

        Assert.Equal(0, provider.OutstandingPages);
        Assert.Throws<ObjectDisposedException>(() => provider.TryAllocatePage(out _));
        provider.Dispose();
    }

    [Fact]
    public void Disposing_when_empty_while_other_threads_free_the_last_pages_frees_the_memory_exactly_when_they_are_all_back()
    {
        for (int round = 0; round < 300; round++)
        {
            var provider = new HostPageProvider(4096, chunkBytes: 16 * 4096);
            ulong[] pages = new ulong[8];
            for (int i = 0; i < pages.Length; i++)
            {
                Assert.True(provider.TryAllocatePage(out pages[i]));
            }

            using var start = new Barrier(3);
            Thread[] freers = [.. Enumerable.Range(0, 2).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = t; i < pages.Length; i += 2)
                {
                    provider.ReleasePage(pages[i]);
                }
            }))];
            Array.ForEach(freers, f => f.Start());
            start.SignalAndWait();
            Thread.SpinWait(round % 50 * 20);
            provider.DisposeWhenEmpty();
            Array.ForEach(freers, f => f.Join());

            Assert.Equal(0, provider.OutstandingPages);
            Assert.Throws<ObjectDisposedException>(() => provider.TryAllocatePage(out _));
        }
    }

    [Fact]
    public void The_provider_hands_out_at_most_its_capacity()
    {
        using var provider = new HostPageProvider(4096, chunkBytes: 4 * 4096, maxPages: 6);
        var pages = new List<ulong>();
        while (provider.TryAllocatePage(out ulong page))
        {
            pages.Add(page);
        }

        Assert.Equal(6, pages.Count);
        Assert.Equal(6, provider.Capacity);
        provider.ReleasePage(pages[3]);
        Assert.True(provider.TryAllocatePage(out ulong reused));
        Assert.Equal(pages[3], reused);
        Assert.False(provider.TryAllocatePage(out _));
        pages.ForEach(provider.ReleasePage);
    }

    [Fact]
    public void The_failure_injector_refuses_chosen_allocations_and_counts_them()
    {
        using var provider = new HostPageProvider(4096) { AllocationFailureInjector = call => call is 1 or 2 };

        Assert.True(provider.TryAllocatePage(out ulong first));
        Assert.False(provider.TryAllocatePage(out _));
        Assert.False(provider.TryAllocatePage(out _));
        Assert.True(provider.TryAllocatePage(out ulong fourth));

        Assert.Equal(2, provider.InjectedFailures);
        Assert.Equal(2, provider.OutstandingPages);
        provider.ReleasePage(first);
        provider.ReleasePage(fourth);
    }

    [Fact]
    public void Disposing_with_pages_still_allocated_is_refused()
    {
        var provider = new HostPageProvider(4096);
        Assert.True(provider.TryAllocatePage(out ulong page));

        Assert.Throws<InvalidOperationException>(provider.Dispose);

        Assert.Equal(1, provider.OutstandingPages);
        Assert.Equal(1, provider.GetReferenceCount(page));
        provider.ReleasePage(page);
        provider.Dispose();
        provider.Dispose();
    }

    [Theory]
    [InlineData(4096, 4096 + 1)]
    [InlineData(4096, 2048)]
    [InlineData(4096, 3 * 4096)]
    [InlineData(100, 1 << 20)]
    [InlineData(0, 1 << 20)]
    public void A_page_or_chunk_size_that_does_not_divide_is_refused(int pageSize, int chunkBytes)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HostPageProvider(pageSize, chunkBytes));
    }

    [Fact]
    public void A_capacity_below_one_page_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HostPageProvider(4096, maxPages: 0));
    }

    [Fact]
    public void Concurrent_allocations_and_releases_never_hand_out_a_page_twice()
    {
        using var provider = new HostPageProvider(4096, chunkBytes: 16 * 4096);
        int[] owners = new int[4096];

        Parallel.For(0, 4, worker =>
        {
            var held = new List<ulong>();
            for (int i = 0; i < 5000; i++)
            {
                Assert.True(provider.TryAllocatePage(out ulong page));
                Assert.Equal(0, Interlocked.Exchange(ref owners[page], worker + 1));
                held.Add(page);
                if (held.Count > 8)
                {
                    ulong released = held[0];
                    held.RemoveAt(0);
                    Assert.Equal(worker + 1, Interlocked.Exchange(ref owners[released], 0));
                    provider.ReleasePage(released);
                }
            }

            foreach (ulong page in held)
            {
                Interlocked.Exchange(ref owners[page], 0);
                provider.ReleasePage(page);
            }
        });

        Assert.Equal(0, provider.OutstandingPages);
    }

    private static unsafe Span<byte> Span(HostPageProvider provider, ulong page) =>
        new((void*)provider.GetHostAddress(page), provider.PageSize);

    [Fact]
    public void A_disposed_provider_refuses_to_hand_out_pages_whose_memory_is_gone()
    {
        var provider = new HostPageProvider(4096, chunkBytes: 4 * 4096, maxPages: 4);
        Assert.True(provider.TryAllocatePage(out ulong page));
        provider.ReleasePage(page);
        provider.Dispose();

        Assert.Throws<ObjectDisposedException>(() => provider.TryAllocatePage(out _));
    }
}
