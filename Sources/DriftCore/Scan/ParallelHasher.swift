#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import Synchronization

/// What hashing one file gave.
public enum HashOutcome: Sendable {
    case hashed(Digest, FileStat, stable: Bool)
    case failed(String)
}

/// Hashes many files on all cores: one EVP context and one 1 MiB buffer per worker,
/// work handed out from a shared counter, results in input order (deterministic).
public enum ParallelHasher {
    private final class Slots: @unchecked Sendable {
        // Each index is written by exactly one worker, read after all have joined.
        let buffer: UnsafeMutableBufferPointer<HashOutcome?>
        init(_ n: Int) {
            buffer = .allocate(capacity: n)
            buffer.initialize(repeating: nil)
        }
        deinit {
            buffer.deinitialize()
            buffer.deallocate()
        }
    }

    private final class Cursor: Sendable {
        let next = Atomic<Int>(0)
    }

    public static var defaultWorkers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public static func hash(_ paths: [[UInt8]], reader: FileReader, workers: Int = defaultWorkers) -> [HashOutcome] {
        if paths.isEmpty { return [] }
        ProgressCounters.shared.expect(files: paths.count)
        let slots = Slots(paths.count)
        let cursor = Cursor()
        let n = min(workers, paths.count)
        DispatchQueue.concurrentPerform(iterations: n) { _ in
            let hasher: SHA256Hasher
            do { hasher = try SHA256Hasher() } catch {
                // Without a context this worker hashes nothing; the others carry on.
                return
            }
            let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
            defer { buf.deallocate() }
            while true {
                let i = cursor.next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= paths.count { break }
                do {
                    let (d, st, stable) = try reader.hash(paths[i], with: hasher, buffer: buf)
                    slots.buffer[i] = .hashed(d, st, stable: stable)
                    ProgressCounters.shared.done(bytes: st.size)
                } catch {
                    slots.buffer[i] = .failed("\(error)")
                }
            }
        }
        return slots.buffer.map { $0 ?? .failed("not hashed (no hashing context)") }
    }
}
