import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12, point 6: a forged stat cache hides a change for at most `reverify_every` scans.
@Suite("Containment: rotating re-verification")
struct ReverifyTests {
    /// The attacker of a stat cache: a same-size edit of `worker/util.py`, then its record rewritten
    /// with the new stat and the old digest. `sameSize` gets (new size, recorded size). False (and an
    /// issue recorded) when the file has no record.
    static func forgeUtilRecord(_ f: Fixture, sameSize: (Int64, Int64) -> Void = { _, _ in }) throws -> Bool {
        let rel = Array("worker/util.py".utf8)
        let cacheFile = f.state + "/statcache"
        guard var cache = StatCache.parse(try readWholeFile(cacheFile)),
              let k = cache.entries.firstIndex(where: { $0.path == rel }) else {
            Issue.record("worker/util.py is not in the stat cache")
            return false
        }
        try sh("sed -i 's/x + 1/x - 1/' worker/util.py", cwd: f.workspace)
        // A failed lstat is an error of the test, never a silent pass.
        let st = try FileSystem.lstat(f.workspace + "/worker/util.py")
        sameSize(st.size, cache.entries[k].entry.size)
        cache.entries[k].entry = StatCache.Entry(size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs,
                                                 inode: st.inode, device: st.device,
                                                 digest: cache.entries[k].entry.digest)
        try AtomicFile.write(try cache.serialized(), to: cacheFile, mode: 0o600)
        return true
    }

    @Test("every path is in exactly one slice per rotation, and a slice is at most 5% of the files")
    func sliceBounds() {
        let slots = (0..<4_000).map { ReverifySlice.slot(Array("app/pkg\($0 % 97)/module_\($0).py".utf8)) }
        for every in [ReverifySlice.minimumEvery, ReverifySlice.defaultEvery] {
            var hits = [Int](repeating: 0, count: slots.count)
            var largest = 0
            for scan in 1000..<(1000 + every) {
                let slice = ReverifySlice(every: every, scan: scan)
                var n = 0
                for (i, s) in slots.enumerated() where slice.contains(slot: s) {
                    hits[i] += 1
                    n += 1
                }
                largest = max(largest, n)
            }
            #expect(hits.allSatisfy { $0 == 1 })
            #expect(Double(largest) <= 0.05 * Double(slots.count), "every \(every): largest slice \(largest)")
        }
    }

    @Test("a same-size edit behind a forged stat-cache record is found within reverify_every scans")
    func forgedCache() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let policy = f.dir.sub("policy.yaml")
        try write(policy, String(decoding: PackageResources.default_yaml, as: UTF8.self) + "reverify_every: 25\n")
        // Old files, so the first scan caches them (no racy-clean margin).
        try sh("find . -exec touch -h -d '-1 hour' {} +", cwd: f.workspace)
        try f.bake(["--policy", policy])
        usleep(2_100_000)  // past the stat cache's racy-clean margin (ctime cannot be set back)
        let (r0, _) = try f.scan()
        #expect(r0.code == 0, "\(r0.err)")
        guard try Self.forgeUtilRecord(f, sameSize: { #expect($0 == $1) }) else { return }
        var foundAt: Int?
        for n in 1...25 {
            let (r, j) = try f.scan()
            if r.code == 1 {
                #expect(changes(j)["worker/util.py"] == "modified")
                foundAt = n
                break
            }
            #expect(r.code == 0, "\(r.err)")
        }
        #expect(foundAt != nil, "a forged cache record hid the change for more than 25 scans")
        // Once found, it stays found (the cache now holds the true digest).
        #expect(try f.scan().0.code == 1)
    }
}
