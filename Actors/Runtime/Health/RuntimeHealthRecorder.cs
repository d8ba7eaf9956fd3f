using Akka.Actor;
using Netmem.Actors.Pools;
using Netmem.Actors.Protocol;

namespace Netmem.Actors.Health;

/// <summary>
/// Listens on the event stream for every <see cref="Unbound"/> the device supervisors send and every pool actor that
/// starts, and writes them into the runtime's <see cref="RuntimeHealthRecord"/>.
/// </summary>
internal sealed class RuntimeHealthRecorder : ReceiveActor
{
    public RuntimeHealthRecorder(RuntimeHealthRecord record)
    {
        Receive<Unbound>(unbound => record.RecordUnbind(unbound.Report));
        Receive<PoolStarted>(started => record.AddPool(started.Pool));
    }

    public static Props Props(RuntimeHealthRecord record) => Akka.Actor.Props.Create(() => new RuntimeHealthRecorder(record));
}
