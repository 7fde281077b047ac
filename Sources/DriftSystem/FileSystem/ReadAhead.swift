#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Reads (hashes) regular files on worker threads while a walk is still finding them, so a
/// first scan's walk, reads and hashing overlap instead of running one after the other.
///
/// The walk `submit`s each regular file as it finds it; `finish` waits for the workers and
/// hands back what each read gave, by path. Nothing is kept of a file's bytes: a caller that
/// needs them (drifted code files it journals) reads that file again, which is rare.
public final class ReadAhead: Sendable {
    private struct Queue {
        var paths: [[UInt8]] = []
        var head = 0
        var closed = false
    }

    private let reader: FileReader
    private let queue = Mutex(Queue())
    private let results = Mutex([[UInt8]: FileReader.Content]())
    private let available = DispatchSemaphore(value: 0)
    private let done = DispatchGroup()
    private let workers: Int
    private let progress: ProgressCounters?

    /// Starts `workers` reading threads beneath `reader`'s root.
    public init(reader: FileReader, workers: Int, progress: ProgressCounters? = nil) {
        self.reader = reader
        self.workers = max(1, workers)
        self.progress = progress
        for _ in 0..<self.workers {
            done.enter()
            Self.startThread { [self] in
                work()
                done.leave()
            }
        }
    }

    /// Queues one regular file (relative path) for reading.
    public func submit(_ path: [UInt8]) {
        progress?.expect(files: 1)
        queue.withLock { $0.paths.append(path) }
        available.signal()
    }

    /// Waits for every queued file to be read; returns each read by path (failed reads are
    /// left out: the caller reads those again and reports why).
    public func finish() -> [[UInt8]: FileReader.Content] {
        queue.withLock { $0.closed = true }
        for _ in 0..<workers { available.signal() }
        done.wait()
        return results.withLock { r in
            let out = r
            r = [:]
            return out
        }
    }

    private func next() -> [UInt8]?? {
        queue.withLock { q in
            if q.head < q.paths.count {
                let p = q.paths[q.head]
                q.head += 1
                // Read paths are dropped now and then: the queue never holds the whole walk.
                if q.head >= 4096 && q.head * 2 >= q.paths.count {
                    q.paths.removeFirst(q.head)
                    q.head = 0
                }
                return .some(p)
            }
            return q.closed ? .some(nil) : nil
        }
    }

    private func work() {
        guard let hasher = try? SHA256Hasher() else {
            // Without a context this worker reads nothing; the caller reads what is left.
            while true {
                available.wait()
                if case .some(.none) = next() { return }
            }
        }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buf.deallocate() }
        while true {
            available.wait()
            guard let item = next() else { continue }
            guard let path = item else { return }
            guard let c = try? reader.read(path, with: hasher, buffer: buf, keepUpTo: -1) else { continue }
            progress?.done(bytes: c.stat.size)
            results.withLock { $0[path] = c }
        }
    }

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// A detached POSIX thread (not a Dispatch pool thread: the walk and the manifest load
    /// hold those, and libdispatch may run queued work late when it thinks the pool is busy).
    private static func startThread(_ body: @escaping @Sendable () -> Void) {
        var tid = pthread_t()
        let raw = Unmanaged.passRetained(Body(body)).toOpaque()
        let rc = pthread_create(&tid, nil, { p in
            guard let p else { return nil }
            Unmanaged<Body>.fromOpaque(p).takeRetainedValue().run()
            return nil
        }, raw)
        if rc == 0 {
            pthread_detach(tid)
        } else {
            // No thread: this share runs now, on the caller's (it ends once `finish` closes).
            let b = Unmanaged<Body>.fromOpaque(raw).takeRetainedValue()
            DispatchQueue.global().async { b.run() }
        }
    }
}
