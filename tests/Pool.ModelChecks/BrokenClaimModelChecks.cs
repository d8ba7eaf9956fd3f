using Netmem.Pool.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.ModelChecks;

/// <summary>
/// Shows the harness has teeth: the check-then-act unmap the claim replaces (read "mapped", then clear it, then
/// unmap) is a double unmap under some interleaving, and Coyote must find it.
/// </summary>
[Collection(nameof(CoyoteCollection))]
public sealed class BrokenClaimModelChecks
{
    [Fact]
    public void A_check_then_act_unmap_without_the_claim_is_found_as_a_double_unmap()
    {
        var report = CoyoteHarness.Explore(async () =>
        {
            var iommu = new IommuModel("broken");
            ulong address = iommu.Map(new DmaBuffer(1, 0, 4096), DmaDirection.FromDevice);
            int mapped = 1;

            void UnmapWithoutClaim()
            {
                if (Volatile.Read(ref mapped) == 1)
                {
                    Volatile.Write(ref mapped, 0);
                    iommu.Unmap(address, 4096, DmaDirection.FromDevice);
                }
            }

            await Task.WhenAll(Task.Run(UnmapWithoutClaim), Task.Run(UnmapWithoutClaim));
            Microsoft.Coyote.Specifications.Specification.Assert(iommu.CountOf(IommuViolationKind.DoubleUnmap) == 0, "double unmap");
        }, iterations: 200);

        Assert.True(report.NumOfFoundBugs > 0, "Coyote did not find the double unmap of a check-then-act unmap.");
    }
}
