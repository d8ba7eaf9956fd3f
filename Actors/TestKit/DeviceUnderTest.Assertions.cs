using System.Diagnostics;
using System.Text;
using Netmem.Actors.Protocol;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Sockets;

namespace Netmem.TestKit;

// The one-line assertions: each waits up to the settle time for figures still in motion, then fails with what is
// wrong and where in words (device, pool, page, allocation site, phase, call).
public sealed partial class DeviceUnderTest
{
    private const int PagesListed = 5;
    private const int SiteLinesListed = 8;

    /// <summary>
    /// No page leaked: every page the device's pools ever lent is back, or posted on an RX ring (the device's own).
    /// Fails listing each page still out, its pool and, when capture is on, where it was allocated, and what the
    /// test's consumers and sockets hold.
    /// </summary>
    /// <exception cref="ScenarioAssertionException">A page is still held outside the rings after the settle time.</exception>
    public void AssertNoPageLeaked() => AssertNoPageLeakedSince([], "over the device's life");

    /// <summary>
    /// No IOMMU violation and no leaked mapping: the strict model (simulated device) and the kit's own DMA ledger
    /// saw every unmap match a map and no call after teardown, every unbind reported no violation and no leaked
    /// mapping, once the device is unbound nothing is still mapped, and no page was written to after it went back to
    /// its memory provider (the pools' providers poison free pages; "device wrote after unmap").
    /// </summary>
    /// <exception cref="ScenarioAssertionException">A violation or a leaked mapping was seen; each is listed.</exception>
    public void AssertNoIommuViolation()
    {
        var problems = new List<string>(_device.Violations);
        if (Iommu is not null)
        {
            problems.AddRange(Iommu.Violations.Select(v => $"IOMMU model: {v.Kind} at 0x{v.DmaAddress:X}: {v.Detail}"));
            if (!Iommu.IsBound && Iommu.LiveMappingCount > 0)
            {
                problems.Add($"IOMMU model: {Iommu.LiveMappingCount} mapping(s) still live after the domain was torn down (leaked mappings).");
            }
        }

        lock (_providers)
        {
            foreach (Netmem.Pool.Memory.HostPageProvider provider in _providers)
            {
                provider.VerifyFreePages();
            }
        }

        problems.AddRange(_poisonViolations.Select(v => v.ToString()));
        lock (_reports)
        {
            foreach (UnbindReport report in _reports.Where(r => r.DeviceViolations > 0 || r.LeakedMappings > 0))
            {
                problems.Add($"unbind #{report.Generation}: the device reported {report.DeviceViolations} violation(s) and {report.LeakedMappings} leaked mapping(s).");
            }
        }

        if (problems.Count > 0)
        {
            throw new ScenarioAssertionException($"{Name}: {problems.Count} IOMMU problem(s):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems.Distinct())}");
        }
    }

    /// <summary>
    /// The unbind was clean: every phase reached its goal in time, nothing was revoked, no violation and no leaked
    /// mapping. Fails naming each phase that did not, with its outcome, duration and detail.
    /// </summary>
    /// <exception cref="ScenarioAssertionException">The report is not clean.</exception>
    public void AssertUnboundClean(UnbindReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!report.IsClean)
        {
            throw new ScenarioAssertionException($"{Name}: unbind #{report.Generation} was not clean: {Describe(report)}");
        }
    }

    /// <summary>
    /// The unbind reported that <paramref name="phase"/>, and only it, timed out, and still ended complete: no
    /// leaked mapping and no violation (a timeout escalates; it never lets the reply overtake the device).
    /// </summary>
    /// <exception cref="ScenarioAssertionException">Another phase timed out, none did, or the unbind leaked.</exception>
    public void AssertUnboundTimedOutIn(UnbindReport report, UnbindPhase phase)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.TimedOutPhases.Count != 1 || report.TimedOutPhases[0] != phase)
        {
            string timedOut = report.TimedOutPhases.Count == 0 ? "no phase timed out" : $"{string.Join(" and ", report.TimedOutPhases)} timed out";
            throw new ScenarioAssertionException($"{Name}: unbind #{report.Generation} was expected to time out in {phase} only, but {timedOut}: {Describe(report)}");
        }

        if (report.LeakedMappings > 0 || report.DeviceViolations > 0)
        {
            throw new ScenarioAssertionException($"{Name}: unbind #{report.Generation} timed out in {phase} as expected but did not end complete: {Describe(report)}");
        }
    }

    /// <summary>
    /// hold − release over every pool of the device equals the pages the test still holds
    /// (<paramref name="pagesTheTestHolds"/>: in its consumers, sockets, actors or own hands). For a destroyed pool
    /// that is its <see cref="PagePoolStats.Inflight"/> exactly; for a pool still bound, its pages lent minus those
    /// posted on the RX ring (its own cache and recycle ring are not anybody's). Waits up to the settle time.
    /// </summary>
    /// <exception cref="ScenarioAssertionException">More or fewer pages are out than the test holds.</exception>
    public void AssertInflightEquals(long pagesTheTestHolds)
    {
        (long out_, string perPool) = PagesOut();
        long deadline = Deadline(_options.SettleTime);
        while (out_ != pagesTheTestHolds && Stopwatch.GetTimestamp() < deadline)
        {
            Thread.Sleep(10);
            (out_, perPool) = PagesOut();
        }

        if (out_ != pagesTheTestHolds)
        {
            long difference = out_ - pagesTheTestHolds;
            string verdict = difference > 0
                ? $"{difference} page(s) more than the test holds are out: a leak, or pages the test forgot it holds"
                : $"{-difference} page(s) the test believes it holds were already given back (a double count, or a page returned twice)";
            throw new ScenarioAssertionException(
                $"{Name}: hold − release says {out_} page(s) are out ({perPool}), but the test holds {pagesTheTestHolds}: {verdict}.{Holders()}"
                + (difference > 0 ? ListPages(OutsideRings().Select(p => p)) : string.Empty));
        }
    }

    internal void AssertNoPageLeakedSince(HashSet<NetmemRef> outBefore, string span)
    {
        List<(PagePool Pool, OutstandingAllocation Allocation)> leaked = Leaked(outBefore);
        long deadline = Deadline(_options.SettleTime);
        while (leaked.Count > 0 && Stopwatch.GetTimestamp() < deadline)
        {
            Thread.Sleep(10);
            leaked = Leaked(outBefore);
        }

        if (leaked.Count > 0)
        {
            throw new ScenarioAssertionException(
                $"{Name}: {leaked.Count} page(s) lent {span} are still held outside the RX rings after {_options.SettleTime.TotalSeconds:0.#} s "
                + $"(a leak, unless the test still means to hold them).{Holders()}{ListPages(leaked)}");
        }
    }

    /// <summary>Every page lent by a pool of the device and not posted on an RX ring, with its pool.</summary>
    internal List<(PagePool Pool, OutstandingAllocation Allocation)> OutsideRings()
    {
        PagePool[] pools;
        lock (_everyPool)
        {
            pools = [.. _everyPool];
        }

        return pools.SelectMany(pool => pool.GetOutstandingAllocations().Where(a => !_ring.IsOnRing(a.Netmem)).Select(a => (pool, a))).ToList();
    }

    private List<(PagePool Pool, OutstandingAllocation Allocation)> Leaked(HashSet<NetmemRef> outBefore) =>
        OutsideRings().Where(p => !outBefore.Contains(p.Allocation.Netmem)).ToList();

    private (long Out, string PerPool) PagesOut()
    {
        PagePool[] pools;
        lock (_everyPool)
        {
            pools = [.. _everyPool];
        }

        var perPool = pools.Select(pool => (pool.Name, Out: pool.State == PagePoolState.Active
            ? pool.GetOutstandingAllocations().Count(a => !_ring.IsOnRing(a.Netmem))
            : pool.GetStats().Inflight)).ToArray();
        string described = perPool.Length == 0 ? "the device was never bound" : string.Join(", ", perPool.Select(p => $"{p.Name}: {p.Out}"));
        return (perPool.Sum(p => p.Out), described);
    }

    /// <summary>What the kit's consumers and sockets hold now, in words (empty when none was opened).</summary>
    private string Holders()
    {
        var lines = new List<string>();
        ScenarioConsumer[] consumers;
        lock (_consumers)
        {
            consumers = [.. _consumers];
        }

        foreach (ScenarioConsumer consumer in consumers)
        {
            try
            {
                ConsumerStatus status = consumer.Status();
                lines.Add($"consumer '{consumer.Name}' holds {status.Held} packet(s), {status.Queued} queued unread");
            }
            catch (Exception exception) when (exception is Akka.Actor.AskTimeoutException or TaskCanceledException)
            {
                lines.Add($"consumer '{consumer.Name}' did not answer its status");
            }
        }

        lock (_sockets)
        {
            lines.AddRange(_sockets.Select(s => $"socket '{s.Name}' has {s.QueuedCount} packet(s) queued unread"));
        }

        lock (_routes)
        {
            lines.AddRange(_routes.Select(r => $"route '{r.Name}' handed {r.Forwarded} packet(s) to {r.Target.Path}, which owns and must dispose them"));
        }

        return lines.Count == 0 ? string.Empty : $"{Environment.NewLine}Held now: {string.Join("; ", lines)}.";
    }

    private static string ListPages(IEnumerable<(PagePool Pool, OutstandingAllocation Allocation)> pages)
    {
        var text = new StringBuilder();
        int listed = 0, total = 0;
        foreach ((PagePool pool, OutstandingAllocation allocation) in pages)
        {
            total++;
            if (listed == PagesListed)
            {
                continue;
            }

            listed++;
            text.AppendLine().Append($"  - {allocation.Netmem} of pool {pool.Name}, ");
            if (allocation.AllocationSite is null)
            {
                text.Append("allocation site not captured (DeviceUnderTestOptions.CaptureAllocationSites is off)");
                continue;
            }

            text.Append("allocated at:");
            foreach (string line in allocation.AllocationSite.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(line => !line.StartsWith("at System.Environment.", StringComparison.Ordinal)).Take(SiteLinesListed))
            {
                text.AppendLine().Append("      ").Append(line);
            }
        }

        if (total > listed)
        {
            text.AppendLine().Append($"  … and {total - listed} more");
        }

        return text.ToString();
    }

    private static string Describe(UnbindReport report)
    {
        string phases = string.Join("; ", report.Phases.Select(p =>
            $"{p.Phase} {p.Outcome} after {p.Duration.TotalMilliseconds:0} ms{(p.Detail is null ? string.Empty : $" ({p.Detail})")}"));
        return $"phases: {(phases.Length == 0 ? "none ran" : phases)}; {report.RevokedWithDomain} page(s) revoked with the domain, "
            + $"{report.LeakedMappings} leaked mapping(s), {report.DeviceViolations} device violation(s), {report.StillHeld} page(s) still held.";
    }

    private static long Deadline(TimeSpan after) => Stopwatch.GetTimestamp() + (long)(after.TotalSeconds * Stopwatch.Frequency);
}
