using Netmem.Pool;
using Netmem.Pool.Misuse;
using Netmem.Stack.Sockets;

namespace Netmem.Chaos;

/// <summary>
/// Performs one misuse on a packet the consumer is done with, and records whether the runtime rejected it with a
/// misuse error. Either way the packet ends disposed, so a rejected misuse loses no page.
/// </summary>
internal static class PacketMisuse
{
    public static void Commit(ReceivedPacket packet, MisuseVariant variant, MisuseTally tally)
    {
        NetmemRef handle = packet.Page;

        // A slice's page stays lent while other slices are out, so only a second return through the page handle is
        // a misuse the pool can see for a fragment.
        MisuseVariant effective = packet.IsFragment ? MisuseVariant.ReturnAfterDispose : variant;
        if (effective == MisuseVariant.DoubleReturn)
        {
            handle.ReturnToPool();
        }
        else
        {
            packet.Dispose();
        }

        try
        {
            switch (effective)
            {
                case MisuseVariant.DoubleReturn:
                    packet.Dispose();
                    break;
                case MisuseVariant.ReturnAfterDispose:
                    handle.ReturnToPool();
                    break;
                case MisuseVariant.ReadAfterDispose:
                    _ = handle.GetSpan()[0];
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown misuse.");
            }

            tally.Accepted();
        }
        catch (NetmemMisuseException rejected)
        {
            tally.Rejected(rejected.Kind);
        }
    }
}
