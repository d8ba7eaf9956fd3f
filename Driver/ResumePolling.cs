using Netmem.Stack.Rx;
using Netmem.Stack.Actors;

namespace Netmem.Driver;

/// <summary>
/// Told to the driver, from the stack's thread, when a batch comes back to a queue that stopped polling because its
/// bound of batches in flight was reached. <paramref name="Batches"/> names the queue's batch pool, so a resume meant
/// for a queue of an earlier incarnation (before a restart) is recognised and ignored.
/// </summary>
internal sealed record ResumePolling(int Queue, RxBatchPool Batches);
