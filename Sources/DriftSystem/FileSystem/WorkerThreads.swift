#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(0)` on the calling thread and `body(1)…body(count - 1)` on their own POSIX
/// threads, and returns when all are done.
///
/// Real threads rather than `DispatchQueue.concurrentPerform`: a walk started while another
/// Dispatch job (the manifest load) holds a pool thread must still get its second core, and
/// libdispatch runs `concurrentPerform` iterations inline when it thinks the pool is busy.
public enum WorkerThreads {
    private final class Job: Sendable {
        let body: @Sendable (Int) -> Void
        let index: Int
        init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int) {
            self.body = body
            self.index = index
        }
    }

    public static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        var started: [pthread_t] = []
        for i in 1..<max(1, count) {
            var tid = pthread_t()
            let job = Unmanaged.passRetained(Job(body, i)).toOpaque()
            let rc = pthread_create(&tid, nil, { raw in
                guard let raw else { return nil }
                let job = Unmanaged<Job>.fromOpaque(raw).takeRetainedValue()
                job.body(job.index)
                return nil
            }, job)
            if rc == 0 {
                started.append(tid)
            } else {
                // No thread: do its share here (same result, less parallel).
                let j = Unmanaged<Job>.fromOpaque(job).takeRetainedValue()
                j.body(j.index)
            }
        }
        body(0)
        for tid in started { pthread_join(tid, nil) }
    }
}
