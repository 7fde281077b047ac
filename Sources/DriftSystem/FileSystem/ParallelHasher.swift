#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import Synchronization

/// Counters a hashing run bumps, for whoever shows progress (the CLI's progress line).
public final class ProgressCounters: Sendable {
    /// Files hashed so far.
    public let files = Atomic<Int>(0)
    /// Bytes hashed so far.
    public let bytes = Atomic<Int64>(0)
    /// Files expected in all.
    public let totalFiles = Atomic<Int>(0)

    public init() {}

    func expect(files n: Int) {
        totalFiles.add(n, ordering: .relaxed)
    }

    func done(bytes b: Int64) {
        files.add(1, ordering: .relaxed)
        bytes.add(b, ordering: .relaxed)
    }
}

/// What hashing one file gave.
public enum HashOutcome: Sendable {
    case hashed(Digest, FileStat, stable: Bool)
    /// Why the file could not be hashed, without its name.
    case failed(String)
}

/// Hashes many files on all cores: one EVP context and one 1 MiB buffer per worker,
/// work handed out from a shared counter, results in input order (deterministic).
public enum ParallelHasher {
    /// The result array's storage, written by the workers: each index by exactly one worker,
    /// read after all have joined.
    private struct Slots: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<ReadOutcome>
    }

    private final class Cursor: Sendable {
        let next = Atomic<Int>(0)
    }

    public static var defaultWorkers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public static func hash(_ paths: [[UInt8]], reader: FileReader, workers: Int = defaultWorkers,
                            progress: ProgressCounters? = nil) -> [HashOutcome] {
        read(paths.map { ReadJob(path: $0) }, readers: [reader], workers: workers, progress: progress).map { r in
            switch r {
            case .read(let c): return .hashed(c.digest, c.stat, stable: c.stable)
            case .failed(let m): return .failed(m)
            }
        }
    }

    /// Reads many files on all cores, each once: hash, stat and (per job) the bytes.
    public static func read(_ jobs: [ReadJob], readers: [FileReader], workers: Int = defaultWorkers,
                            progress: ProgressCounters? = nil) -> [ReadOutcome] {
        if jobs.isEmpty { return [] }
        progress?.expect(files: jobs.count)
        // One array written in place (not optional slots mapped into a second array): the
        // outcomes of a first scan are one record a file, held once.
        var outcomes = [ReadOutcome](repeating: .failed(""), count: jobs.count)
        let cursor = Cursor()
        let n = min(workers, jobs.count)
        outcomes.withUnsafeMutableBufferPointer { out in
            let slots = Slots(buffer: out)
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
                    if i >= jobs.count { break }
                    let job = jobs[i]
                    do {
                        var c = try readers[job.reader].read(job.path, with: hasher, buffer: buf,
                                                             keepUpTo: job.keepUpTo, summarizeOver: job.summarizeOver)
                        // Bytes are kept only for what will be journaled: a settled read that differs.
                        if !c.stable || c.digest == job.unlessDigest { c.bytes = nil }
                        slots.buffer[i] = .read(c)
                        progress?.done(bytes: c.stat.size)
                    } catch {
                        // The caller names the file: the reason alone (no "path: path: …" in reports).
                        slots.buffer[i] = .failed(readFailureReason(error))
                    }
                }
            }
        }
        for i in outcomes.indices {
            if case .failed(let m) = outcomes[i], m.isEmpty {
                outcomes[i] = .failed("not hashed (no hashing context)")
            }
        }
        return outcomes
    }
}

/// One file for `ParallelHasher.read`.
public struct ReadJob: Sendable {
    public var path: [UInt8]
    /// Index into the readers handed to `read`.
    public var reader: Int = 0
    /// Keep the bytes of files up to this size (-1: never).
    public var keepUpTo: Int64 = -1
    /// Drop the bytes when the content has this digest (the manifest's: nothing to journal).
    public var unlessDigest: Digest?
    /// Summarise instead of reading files larger than this (-1: read every file).
    public var summarizeOver: Int64 = -1

    public init(path: [UInt8], reader: Int = 0, keepUpTo: Int64 = -1, unlessDigest: Digest? = nil) {
        self.path = path
        self.reader = reader
        self.keepUpTo = keepUpTo
        self.unlessDigest = unlessDigest
    }
}

/// What reading one file gave.
public enum ReadOutcome: Sendable {
    case read(FileReader.Content)
    /// Why the file could not be read, without its name.
    case failed(String)
}
