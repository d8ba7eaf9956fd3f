using Netmem.Stack.Parsing;

namespace Netmem.Stack.Sockets;

/// <summary>A flow was bound to a consumer while another consumer already held it.</summary>
public sealed class FlowAlreadyBoundException(FlowKey flow, string boundTo)
    : InvalidOperationException($"{flow} is already bound to {boundTo}.")
{
    /// <summary>The flow that was already bound.</summary>
    public FlowKey Flow { get; } = flow;
}
