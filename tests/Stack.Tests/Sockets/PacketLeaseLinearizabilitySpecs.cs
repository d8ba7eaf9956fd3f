using CsCheck;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

/// <summary>
/// Linearizability of <see cref="PacketLease"/> against a sequential model, with CsCheck's SampleParallel: hand-overs
/// and ends of the current lease and of the next two, in any mix and from parallel threads, must leave the cell and
/// every outcome count as some one-at-a-time order of the same calls would.
/// </summary>
public sealed class PacketLeaseLinearizabilitySpecs
{
    private const int Leases = 3;

    [Fact]
    public void Hand_overs_and_ends_of_current_and_later_leases_are_linearizable()
    {
        Gen.Const(() => (new ActualCell(), new ModelCell()))
            .SampleParallel(
                [
                    Gen.Int[0, Leases - 1].Operation<ActualCell, ModelCell>(i => $"TryHandOver(lease {i})", (a, i) => a.TryHandOver(i), (m, i) => m.TryHandOver(i)),
                    Gen.Int[0, Leases - 1].Operation<ActualCell, ModelCell>(i => $"TryEnd(lease {i})", (a, i) => a.TryEnd(i), (m, i) => m.TryEnd(i)),
                ],
                equal: (actual, model) => actual.Matches(model),
                iter: 500,
                printActual: a => a.ToString(),
                printModel: m => m.ToString());
    }

    /// <summary>The real cell, with the outcome of every call counted per lease and kind.</summary>
    private sealed class ActualCell
    {
        private readonly PacketLease _cell = new();
        private readonly long _firstLease;
        private readonly int[] _outcomes = new int[Leases * 4];

        public ActualCell() => _firstLease = _cell.CurrentLease;

        public void TryHandOver(int lease) =>
            Interlocked.Increment(ref _outcomes[(lease * 4) + (int)_cell.TryHandOver(Number(lease))]);

        public void TryEnd(int lease)
        {
            if (_cell.TryEnd(Number(lease)))
            {
                Interlocked.Increment(ref _outcomes[(lease * 4) + 3]);
            }
        }

        public bool Matches(ModelCell model) =>
            Enumerable.Range(0, Leases).Select(i => _cell.IsEnded(Number(i))).SequenceEqual(Enumerable.Range(0, Leases).Select(i => i != model.Current))
            && _outcomes.SequenceEqual(model.Outcomes);

        public override string ToString() => $"current lease {(_cell.CurrentLease - _firstLease) / 2}, outcomes [{string.Join(",", _outcomes)}]";

        private long Number(int lease) => _firstLease + (2L * lease);
    }

    /// <summary>
    /// The sequential meaning: leases are 0, 1, 2 in turn; ending the current one moves to the next and clears the
    /// hand-over; a call naming any other lease fails. Outcome slots per lease: claimed, already handed over, ended,
    /// ends that succeeded.
    /// </summary>
    private sealed class ModelCell
    {
        private bool _handedOver;

        public int Current { get; private set; }

        public int[] Outcomes { get; } = new int[Leases * 4];

        public void TryHandOver(int lease)
        {
            PacketLease.HandOver outcome = lease != Current ? PacketLease.HandOver.Ended
                : _handedOver ? PacketLease.HandOver.AlreadyHandedOver
                : PacketLease.HandOver.Claimed;
            _handedOver |= outcome == PacketLease.HandOver.Claimed;
            Outcomes[(lease * 4) + (int)outcome]++;
        }

        public void TryEnd(int lease)
        {
            if (lease == Current)
            {
                Current++;
                _handedOver = false;
                Outcomes[(lease * 4) + 3]++;
            }
        }

        public override string ToString() => $"current lease {Current}, outcomes [{string.Join(",", Outcomes)}]";
    }
}
