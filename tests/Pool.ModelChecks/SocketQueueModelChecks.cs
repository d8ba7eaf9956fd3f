using Microsoft.Coyote.Specifications;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Pool.ModelChecks;

/// <summary>
/// The socket queue's close (<c>Stack/Sockets/SocketQueue.cs</c>) under systematic interleaving. A write takes its
/// place with a compare-and-swap and enqueues after it; the compare-and-swap is a scheduling point, so a writer can
/// be preempted exactly between its two steps while the queue is closed and drained, which stress runs almost never
/// hit. No reader waits here: the waits take the queue's <see cref="Lock"/>, which Coyote leaves a real lock, and a
/// controlled thread paused inside it would block the others for real.
/// </summary>
[Collection(nameof(CoyoteCollection))]
public sealed class SocketQueueModelChecks
{
    [Fact]
    public void Writes_racing_the_close_and_its_drain_end_each_item_queued_in_exactly_one_reader_or_the_drain() =>
        CoyoteHarness.AssertNoBugFound(
            async () =>
            {
                var queue = new SocketQueue<int>(capacity: 2);
                var queued = new List<int>[2] { [], [] };
                var refused = new List<int>[2] { [], [] };
                var read = new List<int>();
                var drained = new List<int>();

                Task Writer(int writer, int first) => Task.Run(() =>
                {
                    for (int item = first; item < first + 2; item++)
                    {
                        (queue.TryWrite(item) == SocketQueueWrite.Queued ? queued[writer] : refused[writer]).Add(item);
                    }
                });

                Task reader = Task.Run(() =>
                {
                    for (int attempt = 0; attempt < 2; attempt++)
                    {
                        if (queue.TryRead(out int item))
                        {
                            read.Add(item);
                        }
                    }
                });
                Task closer = Task.Run(() =>
                {
                    queue.TryComplete();
                    queue.DrainAfterClose(drained.Add);
                });
                await Task.WhenAll(Writer(0, 1), Writer(1, 3), reader, closer);

                int[] ended = [.. read, .. drained];
                int[] accepted = [.. queued[0], .. queued[1]];
                Specification.Assert(
                    ended.Order().SequenceEqual(accepted.Order()),
                    $"queued {string.Join(",", accepted)} but read {string.Join(",", read)} and drained {string.Join(",", drained)}.");
                Specification.Assert(!queue.TryRead(out int left), $"{left} was still queued after the drain.");
                Specification.Assert(queue.Completion.IsCompletedSuccessfully, "the queue is closed and empty but not complete.");
                Specification.Assert(queue.Count == 0, $"count {queue.Count} after the drain.");
            },
            iterations: 2000);
}
