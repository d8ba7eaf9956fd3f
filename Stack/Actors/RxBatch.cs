namespace Netmem.Stack.Actors;

/// <summary>
/// The driver's hand-off to the stack: up to one NAPI budget (64) of frames received on one RX queue. It is an
/// ownership transfer: after the driver tells it, every page in it belongs to the receiver, which must deliver or
/// return each one.
/// </summary>
public sealed record RxBatch(string Device, int QueueIndex, IReadOnlyList<RxFrame> Frames)
{
    /// <summary>The NAPI budget: the most frames one poll hands over.</summary>
    public const int MaxFrames = 64;
}
