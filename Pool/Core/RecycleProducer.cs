namespace Netmem.Pool.Core;

/// <summary>
/// The small number each thread that returns pages is known by: the index of its <see cref="ProducerRing"/> in every
/// pool's <see cref="RecycleRing"/>. A thread gets one on its first return to any pool and keeps it until it exits;
/// the number then goes to the next thread that needs one.
/// </summary>
/// <remarks>
/// <para>Numbers start at 1, so 0 means "none yet" and indexes the slot every pool leaves empty: the return path
/// needs one test for both "no number" and "no ring in this pool".</para>
/// <para>Reuse keeps every pool's array of rings as short as the most threads that were alive with a number at one
/// time, however many threads come and go (the thread pool retires idle threads and starts new ones). A thread
/// learns nothing when it exits, so the number goes back the way <c>ThreadLocal&lt;T&gt;</c> in dotnet/runtime cleans
/// up after an exited thread: through a thread-static object whose finalizer can run only once its thread has
/// exited (until then the thread's static field keeps it alive). A number is therefore never held by two
/// living threads, which is what keeps each ring single-producer. The next holder of a number also inherits that
/// number's ring in every pool, items and positions included; it reads the positions its predecessor wrote in plain
/// loads, which see those writes because the predecessor's exit, the finalizer's release of the number and the new
/// holder's take are ordered through the runtime's thread-exit and garbage-collection synchronisation and this
/// class's lock.</para>
/// <para>The lock is a <see cref="Lock"/>, not a monitor: the finalizer takes it on the finalizer thread, which a
/// Coyote model check does not control. Coyote leaves <see cref="Lock"/> alone, so it stays a real lock for every
/// thread; nothing inside it is a scheduling point, so a controlled thread is never paused while holding it.</para>
/// </remarks>
internal static class RecycleProducer
{
    private static readonly Lock s_lock = new();
    private static int[] s_freeIds = new int[16];
    private static int s_freeCount;
    private static int s_nextId = 1;

    [ThreadStatic]
    private static int t_id;

    [ThreadStatic]
    private static IdReturner? t_idReturner;

    /// <summary>The calling thread's number, or 0 if it has none yet.</summary>
    public static int IdOfCurrentThread => t_id;

    /// <summary>The calling thread's number, given to it now if it has none.</summary>
    public static int AssignToCurrentThread()
    {
        if (t_id != 0)
        {
            return t_id;
        }

        int id;
        lock (s_lock)
        {
            id = s_freeCount > 0 ? s_freeIds[--s_freeCount] : s_nextId++;
        }

        t_idReturner = new IdReturner(id);
        t_id = id;
        return id;
    }

    private static void Release(int id)
    {
        lock (s_lock)
        {
            if (s_freeCount == s_freeIds.Length)
            {
                Array.Resize(ref s_freeIds, s_freeIds.Length * 2);
            }

            s_freeIds[s_freeCount++] = id;
        }
    }

    /// <summary>Reachable only from its thread's thread-static field, so it is finalized only once the thread has exited.</summary>
    private sealed class IdReturner(int id)
    {
        ~IdReturner() => Release(id);
    }
}
