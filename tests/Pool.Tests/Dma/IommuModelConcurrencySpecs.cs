using System.Runtime.InteropServices;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests.Dma;

/// <summary>
/// The invariants of the <see cref="IommuModel"/>'s lock-free calls (see its design comment), checked by racing them
/// from many threads: a mapping ends once, no device write lands after the unmap or teardown that ends its mapping
/// has returned (single writes, and batches of writes of a DMA engine), every call is judged exactly once, and the
/// counts stay exact.
/// </summary>
public sealed unsafe class IommuModelConcurrencySpecs : IDisposable
{
    private const int PageSize = 4096;
    private const int Pages = 8;
    private const byte Written = 0xAB;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly byte* _memory = (byte*)NativeMemory.AllocZeroed(Pages * PageSize);

    public void Dispose() => NativeMemory.Free(_memory);

    [Fact]
    public void Racing_unmaps_of_one_mapping_let_exactly_one_through_and_flag_every_other_as_a_double_unmap()
    {
        const int Rounds = 300;
        const int Racers = 4;
        var iommu = new IommuModel("dev");
        ulong address = 0;
        using var start = new Barrier(Racers + 1);
        using var end = new Barrier(Racers + 1);
        Thread[] racers = StartThreads(Racers, _ =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                start.SignalAndWait(Patience);
                iommu.Unmap(Volatile.Read(ref address), PageSize, DmaDirection.FromDevice);
                end.SignalAndWait(Patience);
            }
        });

        for (int round = 0; round < Rounds; round++)
        {
            Volatile.Write(ref address, iommu.Map(Page(0), DmaDirection.FromDevice));
            start.SignalAndWait(Patience);
            end.SignalAndWait(Patience);
            Assert.False(iommu.IsMapped(address));
        }

        Assert.True(JoinAll(racers));
        Assert.Equal(Rounds * (Racers - 1), iommu.CountOf(IommuViolationKind.DoubleUnmap));
        Assert.Equal(Rounds * (Racers - 1), iommu.ViolationCount);
        Assert.Equal(Rounds * Racers, iommu.UnmapCalls);
        Assert.Equal(0, iommu.LiveMappingCount);
    }

    [Fact]
    public void No_device_write_lands_in_a_page_after_the_unmap_of_its_mapping_returned()
    {
        const int Rounds = 400;
        var iommu = new IommuModel("dev");
        ulong address = 0;
        bool stop = false;
        long landed = 0;
        byte[] frame = Enumerable.Repeat(Written, 256).ToArray();
        Thread[] writers = StartThreads(2, _ =>
        {
            while (!Volatile.Read(ref stop))
            {
                ulong target = Volatile.Read(ref address);
                if (target != 0 && iommu.DmaWrite(target, 0, frame))
                {
                    Interlocked.Increment(ref landed);
                }
            }
        });

        int overwritten = RoundsWrittenAfterUnmap(iommu, ref address, Rounds, () => Volatile.Read(ref landed) > 0, out int rounds);

        Volatile.Write(ref stop, true);
        Assert.True(JoinAll(writers));
        Assert.Equal(0, overwritten);
        Assert.True(landed > 0, "no write ever landed: the race was not exercised");
        Assert.Equal(iommu.DmaWrites, landed + iommu.CountOf(IommuViolationKind.DmaToUnmappedAddress));
        Assert.Equal(iommu.ViolationCount, iommu.CountOf(IommuViolationKind.DmaToUnmappedAddress));
        Assert.Equal(rounds, iommu.UnmapCalls);
    }

    [Fact]
    public void An_unmap_during_an_open_batch_returns_only_after_the_batch_ends_and_the_batch_can_no_longer_write_there()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(0), DmaDirection.FromDevice);
        var engine = new IommuModel.DeviceWriter(iommu);
        engine.BeginBatch();
        Assert.True(engine.TryOpen(address, 0, PageSize, out Span<byte> page));
        engine.Close(written: true, PageSize);

        var unmapper = new Thread(() => iommu.Unmap(address, PageSize, DmaDirection.FromDevice)) { IsBackground = true };
        unmapper.Start();
        Assert.True(SpinWait.SpinUntil(() => !iommu.IsMapped(address), Patience), "the unmap never ended the mapping");

        // The mapping has ended but the batch is open: the unmap is still waiting, so the page is still the device's.
        Assert.False(unmapper.Join(TimeSpan.FromMilliseconds(200)), "the unmap returned while a batch that wrote into its page was open");
        page.Fill(Written);
        Assert.False(engine.TryOpen(address, 0, 64, out Span<byte> nowhere));
        nowhere.Fill(Written);
        engine.Close(written: true, 64);
        engine.EndBatch();

        Assert.True(unmapper.Join(Patience));
        Assert.Equal(PageSize, new Span<byte>(_memory, PageSize).Count(Written));
        Assert.Equal(2, iommu.DmaWrites);
        Assert.Equal(1, iommu.CountOf(IommuViolationKind.DmaToUnmappedAddress));
        Assert.Equal(1, iommu.ViolationCount);
    }

    [Fact]
    public void No_write_of_a_batch_lands_in_a_page_after_the_unmap_of_its_mapping_returned()
    {
        const int Rounds = 400;
        const int WritesPerBatch = 8;
        var iommu = new IommuModel("dev");
        ulong address = 0;
        bool stop = false;
        long landed = 0;
        Thread[] engines = StartThreads(2, _ =>
        {
            var engine = new IommuModel.DeviceWriter(iommu);
            while (!Volatile.Read(ref stop))
            {
                engine.BeginBatch();
                for (int i = 0; i < WritesPerBatch; i++)
                {
                    ulong target = Volatile.Read(ref address);
                    if (target == 0)
                    {
                        continue;
                    }

                    // The frame goes in in pieces, as a slow DMA engine writes it, to widen the window an unmap can hit.
                    bool landing = engine.TryOpen(target, 0, 256, out Span<byte> destination);
                    for (int piece = 0; piece < 4; piece++)
                    {
                        destination.Slice(piece * 64, 64).Fill(Written);
                        Thread.SpinWait(20);
                    }

                    engine.Close(written: true, 256);
                    if (landing)
                    {
                        Interlocked.Increment(ref landed);
                    }
                }

                engine.EndBatch();
            }
        });

        // Engines may still aim at the old address, some inside a batch that began before the unmap.
        int overwritten = RoundsWrittenAfterUnmap(iommu, ref address, Rounds, () => Volatile.Read(ref landed) > 0, out _);

        Volatile.Write(ref stop, true);
        Assert.True(JoinAll(engines));
        Assert.Equal(0, overwritten);
        Assert.True(landed > 0, "no write ever landed: the race was not exercised");
        Assert.Equal(iommu.DmaWrites, landed + iommu.CountOf(IommuViolationKind.DmaToUnmappedAddress));
        Assert.Equal(iommu.ViolationCount, iommu.CountOf(IommuViolationKind.DmaToUnmappedAddress));
    }

    [Fact]
    public void A_retired_engine_keeps_its_writes_counted_and_opens_no_batch_again()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(0), DmaDirection.FromDevice);
        var engine = new IommuModel.DeviceWriter(iommu);
        engine.BeginBatch();
        Assert.True(engine.TryOpen(address, 0, 64, out _));
        engine.Close(written: true, 64);
        engine.EndBatch();

        engine.Retire();

        Assert.Equal(1, iommu.DmaWrites);
        Assert.Throws<ObjectDisposedException>(engine.BeginBatch);
        Assert.True(iommu.DmaWrite(address, 0, [1]));
        Assert.Equal(2, iommu.DmaWrites);
    }

    [Fact]
    public void A_teardown_racing_maps_unmaps_writes_and_syncs_judges_every_call_once_and_lets_no_write_land_after_it()
    {
        var iommu = new IommuModel("dev");
        var addresses = new ulong[Pages];
        bool stop = false;
        long mapsMade = 0, mapsRefused = 0, unmapsMade = 0, writesLanded = 0, syncsMade = 0;
        byte[] frame = Enumerable.Repeat(Written, 128).ToArray();

        Thread[] mappers = StartThreads(2, group =>
        {
            for (int turn = 0; !Volatile.Read(ref stop); turn++)
            {
                int page = (group * (Pages / 2)) + (turn % (Pages / 2));
                ulong mapped;
                try
                {
                    mapped = iommu.Map(Page(page), DmaDirection.FromDevice);
                    Interlocked.Increment(ref mapsMade);
                }
                catch (DmaMapException)
                {
                    Interlocked.Increment(ref mapsRefused);
                    continue;
                }

                Volatile.Write(ref addresses[page], mapped);
                Thread.SpinWait(500);
                Volatile.Write(ref addresses[page], 0);
                iommu.Unmap(mapped, PageSize, DmaDirection.FromDevice);
                Interlocked.Increment(ref unmapsMade);
            }
        });

        Thread[] devices = StartThreads(2, _ =>
        {
            // A page with no mapping now gets the last address this device wrote to: a stale one, as a device that
            // lags behind its driver would use.
            ulong last = 0;
            for (int turn = 0; !Volatile.Read(ref stop); turn++)
            {
                ulong target = Volatile.Read(ref addresses[turn % Pages]);
                target = target != 0 ? target : last;
                if (target == 0)
                {
                    continue;
                }

                last = target;

                if (iommu.DmaWrite(target, 64, frame))
                {
                    Interlocked.Increment(ref writesLanded);
                }

                iommu.SyncForCpu(target, 64, frame.Length, DmaDirection.FromDevice);
                Interlocked.Increment(ref syncsMade);
            }
        });

        SpinWait.SpinUntil(() => Interlocked.Read(ref writesLanded) > 1_000 && Interlocked.Read(ref unmapsMade) > 100, Patience);
        (int stillMapped, int leaked) = iommu.TearDown(0);

        // From here no write may land: clear the pages, let every thread go on a while (their calls now come after
        // the unbind), then look.
        new Span<byte>(_memory, Pages * PageSize).Clear();
        long writesAtTeardown = iommu.DmaWrites, mapsAtTeardown = iommu.MapCalls;
        SpinWait.SpinUntil(() => iommu.DmaWrites > writesAtTeardown + 1_000 && iommu.MapCalls > mapsAtTeardown + 100, Patience);
        Volatile.Write(ref stop, true);
        Assert.True(JoinAll([.. mappers, .. devices]));

        Assert.Equal(-1, new Span<byte>(_memory, Pages * PageSize).IndexOfAnyExcept((byte)0));
        Assert.False(iommu.IsBound);
        Assert.Equal(0, iommu.LiveMappingCount);
        Assert.Equal(stillMapped, leaked);
        Assert.Equal(leaked, iommu.CountOf(IommuViolationKind.MappingLeakedAtUnbind));

        // Maps: each made one either ended by an unmap before the teardown or torn down by it; each refused one is a
        // call after unbind.
        int unmapsAfterUnbind = CallsAfterUnbind(iommu, "unmap while unbound");
        Assert.Equal(mapsMade, unmapsMade - unmapsAfterUnbind + stillMapped);
        Assert.Equal(mapsRefused, CallsAfterUnbind(iommu, "map of page"));
        Assert.Equal(iommu.MapCalls, mapsMade + mapsRefused);
        Assert.Equal(iommu.UnmapCalls, unmapsMade);
        Assert.Equal(0, iommu.CountOf(IommuViolationKind.DoubleUnmap) + iommu.CountOf(IommuViolationKind.UnmapOfUnknownAddress));

        // Writes and syncs: each either landed (passed) or is recorded exactly once.
        Assert.Equal(iommu.DmaWrites, writesLanded + iommu.CountOf(IommuViolationKind.DmaToUnmappedAddress) + CallsAfterUnbind(iommu, "DMA write"));
        Assert.Equal(iommu.SyncCalls, syncsMade);
        Assert.True(iommu.CountOf(IommuViolationKind.SyncOfUnmappedAddress) + CallsAfterUnbind(iommu, "sync for cpu") <= syncsMade);
        Assert.True(CallsAfterUnbind(iommu, "DMA write") > 0, "no write came after the unbind: the race was not exercised");
    }

    [Fact]
    public void Call_counts_stay_exact_after_the_calling_threads_have_exited()
    {
        var iommu = new IommuModel("dev");
        ulong address = iommu.Map(Page(0), DmaDirection.FromDevice);
        Thread[] threads = StartThreads(8, _ =>
        {
            for (int i = 0; i < 1_000; i++)
            {
                iommu.SyncForCpu(address, 0, 64, DmaDirection.FromDevice);
                iommu.DmaWrite(address, 0, [1]);
            }
        });
        Assert.True(JoinAll(threads));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal(8_000, iommu.SyncCalls);
        Assert.Equal(8_000, iommu.DmaWrites);
        Assert.Empty(iommu.Violations);
    }

    /// <summary>
    /// Maps the page, aims the writers at it through <paramref name="address"/>, unmaps it, and counts the rounds in
    /// which a byte landed in the page after the unmap returned (writers may still aim at the old address; none of
    /// their writes may land from there on). At least <paramref name="minimumRounds"/> rounds, and on until
    /// <paramref name="exercised"/> (a write landed) or the patience passes: on a loaded machine the writers may not
    /// run at all during the first rounds.
    /// </summary>
    private int RoundsWrittenAfterUnmap(IommuModel iommu, ref ulong address, int minimumRounds, Func<bool> exercised, out int rounds)
    {
        int overwritten = 0;
        long deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
        for (rounds = 0; rounds < minimumRounds || (!exercised() && Environment.TickCount64 < deadline); rounds++)
        {
            ulong mapped = iommu.Map(Page(0), DmaDirection.FromDevice);
            Volatile.Write(ref address, mapped);
            Thread.SpinWait(2_000);
            iommu.Unmap(mapped, PageSize, DmaDirection.FromDevice);

            new Span<byte>(_memory, PageSize).Clear();
            Thread.SpinWait(2_000);
            if (new Span<byte>(_memory, PageSize).IndexOfAnyExcept((byte)0) >= 0)
            {
                overwritten++;
            }
        }

        return overwritten;
    }

    private static Thread[] StartThreads(int count, Action<int> body)
    {
        Thread[] threads = Enumerable.Range(0, count).Select(index => new Thread(() => body(index)) { IsBackground = true }).ToArray();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        return threads;
    }

    private static bool JoinAll(Thread[] threads) => threads.All(thread => thread.Join(Patience));

    private static int CallsAfterUnbind(IommuModel iommu, string what) =>
        iommu.Violations.Count(v => v.Kind == IommuViolationKind.CallAfterUnbind && v.Detail.Contains(what, StringComparison.Ordinal));

    private DmaBuffer Page(int index) => new((ulong)index, (nint)(_memory + (index * PageSize)), PageSize);
}
