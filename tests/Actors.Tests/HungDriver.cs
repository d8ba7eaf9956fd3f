using System.Runtime.CompilerServices;
using Akka.Actor;
using Netmem.Driver;
using Netmem.Pool;
using Netmem.Pool.Misuse;

namespace Netmem.Actors.Tests;

/// <summary>
/// A driver stuck in its receive loop: from its first message on it allocates from queue 0's pool, holding one
/// page in four and recycling the rest directly, until the pool refuses (destroyed), so it never sees Quiesce and
/// cannot be stopped. It is the owner of the pool's allocation side the whole time; once refused it returns what it
/// held, as a real driver's late teardown would.
/// </summary>
internal sealed class HungDriver : ReceiveActor
{
    public HungDriver(DriverSetup setup, StrongBox<long> allocations)
    {
        ReceiveAny(_ => AllocateUntilRefused(setup.Pools[0], allocations));
    }

    /// <param name="allocations">Counts the allocations the driver made before the pool refused it.</param>
    public static Props Props(DriverSetup setup, StrongBox<long> allocations) =>
        Akka.Actor.Props.Create(() => new HungDriver(setup, allocations));

    protected override void PreStart() => Self.Tell("hang");

    private static void AllocateUntilRefused(PagePool pool, StrongBox<long> allocations)
    {
        var held = new List<NetmemRef>();
        try
        {
            for (long i = 0; ; i++)
            {
                NetmemRef page = pool.Allocate();
                Interlocked.Increment(ref allocations.Value);
                page.GetSpan()[0] = (byte)i;
                if (i % 4 == 0 && held.Count < 4096)
                {
                    held.Add(page);
                }
                else
                {
                    pool.RecycleDirect(page);
                }
            }
        }
        catch (PoolDestroyedException)
        {
            held.ForEach(pool.Return);
        }
    }
}
