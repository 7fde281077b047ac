import DriftSystem
import DriftTestSupport
import Foundation
import Testing
@testable import DriftCore

/// The watcher's hashes of big files apart from its batches (docs/operations.md, "A hash budget
/// per watch batch"), without a watcher: events are `invalidate` calls.
@Suite("DeferredHashes")
struct DeferredHashesTests {
    /// Incident 13, F6: `touch`ing a big baked file once a second queued one full hash per event
    /// and ran them all, so the watcher hashed for minutes after the last touch.
    @Test("a hash that went stale before it started is skipped, not run")
    func staleQueuedHashesAreSkipped() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        // Big enough that the first hash is still under way while the events come in.
        _ = try sh("truncate -s 512M big.bin", cwd: dir.path)
        let path = Array("big.bin".utf8)
        let hashes = try DeferredHashes(root: Array(dir.path.utf8))
        hashes.submit([ReadJob(path: path)])
        for _ in 0..<20 {
            hashes.invalidate(path)
            hashes.submit([ReadJob(path: path)])
        }
        #expect(hashes.examining == 1)
        var finished: [[UInt8]] = []
        // A guard against a hang only (a hash of 512 MiB of holes takes about a second).
        for _ in 0..<6_000 where !finished.contains(path) {
            finished += hashes.takeFinished()
            if !finished.contains(path) { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(finished == [path])
        #expect(hashes.ready[path] != nil, "the last submitted hash is the one kept")
        #expect(hashes.examining == 0)
        // The first job (perhaps already running) and the last one; the 19 in between were stale.
        #expect(hashes.hashesStarted <= 2, "\(hashes.hashesStarted) full hashes started for 21 submits")
    }
}
