using System.Collections.Concurrent;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;

namespace Netmem.Actors.Tests.Devices;

/// <summary>
/// A device written against the public abstraction alone, with no IOMMU model: addresses from a counter, a table of
/// live mappings as its own strict oracle, and a receive side that writes <paramref name="frames"/> frames of
/// <paramref name="flow"/> into posted pages through their spans. It counts every misuse it sees.
/// </summary>
internal sealed class OwnDevice(string name, FlowKey flow, int frames) : INetDevice
{
    private readonly ConcurrentDictionary<ulong, int> _live = new();
    private long _nextAddress = 0x1000;
    private long _framesLeft = frames;
    private volatile bool _tornDown;
    private long _violations;

    public string Name => name;

    public long Violations => Interlocked.Read(ref _violations);

    public int LiveMappings => _live.Count;

    public FlowKey Flow => flow;

    public long LeakedAtTeardown { get; private set; } = -1;

    public IDeviceBinding Bind(DeviceBindContext context)
    {
        _tornDown = false;
        return new Binding(this);
    }

    private void Check()
    {
        if (_tornDown)
        {
            Interlocked.Increment(ref _violations);
        }
    }

    private sealed class Binding(OwnDevice device) : IDeviceBinding, IDmaDevice
    {
        public string Name => device.Name;

        public bool NeedsSync => false;

        public IDmaDevice GetDmaDevice(int queue) => this;

        public IRxQueueDevice OpenRxQueue(int queue, PagePool pool) => new Receiver(device, pool);

        public DeviceTeardownReport TearDown(long revokedMappings)
        {
            device.Check();
            device._tornDown = true;
            long stillMapped = device._live.Count;
            long leaked = Math.Max(0, stillMapped - revokedMappings);
            device.LeakedAtTeardown = leaked;
            device._live.Clear();
            return new DeviceTeardownReport(stillMapped, leaked, device.Violations);
        }

        public ulong Map(DmaBuffer buffer, DmaDirection direction)
        {
            device.Check();
            ulong address = (ulong)Interlocked.Add(ref device._nextAddress, 0x1000);
            device._live[address] = buffer.Length;
            return address;
        }

        public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
        {
            device.Check();
            if (!device._live.TryRemove(dmaAddress, out _))
            {
                Interlocked.Increment(ref device._violations);
            }
        }

        public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction) => device.Check();

        public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) => device.Check();
    }

    private sealed class Receiver(OwnDevice device, PagePool pool) : IRxQueueDevice
    {
        private readonly Stack<NetmemRef> _posted = new();

        public int Posted => _posted.Count;

        public bool TryPost(NetmemRef page)
        {
            device.Check();
            _posted.Push(page);
            return true;
        }

        public int Reap(Span<RxFrame> frames)
        {
            device.Check();
            int reaped = 0;
            while (reaped < frames.Length && _posted.Count > 0 && Interlocked.Decrement(ref device._framesLeft) >= 0)
            {
                NetmemRef page = _posted.Pop();
                int length = FrameBuilder.Write(page.GetSpan(), new FrameSpec(device.Flow, 128)).FrameLength;
                frames[reaped++] = new RxFrame(page, 0, length);
            }

            return reaped;
        }

        public long Close()
        {
            long returned = _posted.Count;
            while (_posted.TryPop(out NetmemRef page))
            {
                pool.Return(page);
            }

            return returned;
        }
    }
}
