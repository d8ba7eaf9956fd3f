namespace Netmem.Pool.Tests;

/// <summary>
/// Runs work on threads of its own. A returning thread's ring belongs to its thread number, and a number is handed to
/// a new thread once its holder has exited, so two threads that never live at the same time may share a ring: specs
/// that need a ring per thread keep their threads alive together.
/// </summary>
internal static class ReturningThreads
{
    /// <summary>Runs each piece of work on a new thread, one after another, and lets the threads exit only once all are done.</summary>
    public static void AliveTogether(params Action[] work)
    {
        using var allDone = new ManualResetEventSlim();
        var threads = new List<Thread>();
        foreach (Action piece in work)
        {
            using var done = new ManualResetEventSlim();
            var thread = new Thread(() =>
            {
                piece();
                done.Set();
                allDone.Wait();
            });
            thread.Start();
            done.Wait();
            threads.Add(thread);
        }

        allDone.Set();
        threads.ForEach(thread => thread.Join());
    }

    /// <summary>Runs <paramref name="work"/> on a new thread and waits for the thread to exit.</summary>
    public static T OnNewThread<T>(Func<T> work)
    {
        T result = default!;
        var thread = new Thread(() => result = work());
        thread.Start();
        thread.Join();
        return result;
    }

    /// <summary>Runs <paramref name="work"/> on a new thread and waits for the thread to exit.</summary>
    public static void OnNewThread(Action work) => OnNewThread(() =>
    {
        work();
        return 0;
    });
}
