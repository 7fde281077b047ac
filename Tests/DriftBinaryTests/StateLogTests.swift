import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// `state.json` plus `state.log` (docs/state.md, "Incremental updates").
@Suite("State log", .serialized)
struct StateLogTests {
    static func item(_ k: Int, change: ChangeKind = .added) -> DriftState.Item {
        DriftState.Item(path: String(format: "worker/m%05d.py", k), firstSeen: "2026-02-01T00:00:00Z",
                        change: change, fileClass: .code)
    }

    static func state(_ n: Int) -> DriftState {
        var s = DriftState(commit: String(repeating: "a", count: 40))
        s.items = (0..<n).map { item($0) }
        s.lastScan = "2026-02-01T00:00:00Z"
        return s
    }

    static func encoded(_ s: DriftState) throws -> [UInt8] {
        var s = s
        s.origin = nil
        StateLog.canonicalOrder(&s.items)
        return try JSONCoding.encode(s)
    }

    @Test("a batch changing one item of 2,000 appends one small record: state.json untouched; the fold reads it back")
    func appendOne() throws {
        let d = try TempDir("stlog")
        defer { d.remove() }
        let dir = StateDirectory(path: d.path)
        let commit = String(repeating: "a", count: 40)
        try dir.saveState(Self.state(2_000))
        let base = try FileSystem.lstat(d.path + "/state.json")
        var grew: [Int] = []
        var want = Self.state(2_000)
        for k in 0..<12 {
            let old = try dir.loadState(commit: commit)
            want = old
            want.items[k].change = .modified
            want.lastScan = "2026-02-01T00:00:\(String(format: "%02d", k))Z"
            if k == 5 { want.items.remove(at: 1_500) }
            if k == 6 { want.items.append(Self.item(9_999)) }
            let before = (try? FileSystem.lstat(d.path + "/state.log")).map { Int($0.size) } ?? 0
            try dir.saveState(want, appendingTo: old)
            let after = Int(try FileSystem.lstat(d.path + "/state.log").size)
            grew.append(after - before)
            #expect(try Self.encoded(dir.loadState(commit: commit)) == Self.encoded(want))
        }
        #expect(try FileSystem.lstat(d.path + "/state.json") == base, "state.json was rewritten")
        // Bytes written per batch do not depend on the 2,000 items: one item, the fields, a frame.
        #expect(grew.dropFirst().allSatisfy { $0 < 1_500 }, "\(grew)")
        // A full write (a scan) takes the log in and removes it.
        let folded = try dir.loadState(commit: commit)
        try dir.saveState(folded)
        #expect(FileSystem.isAbsent(d.path + "/state.log"))
        #expect(try Self.encoded(dir.loadState(commit: commit)) == Self.encoded(want))
        let plain = try JSONDecoder().decode(DriftState.self, from: Data(readWholeFile(d.path + "/state.json")))
        #expect(try Self.encoded(plain) == Self.encoded(want), "state.json alone is complete after a scan")
    }

    @Test("a torn last record is cut off by the next append; a stale log is ignored; past the bound a new base")
    func tornStaleBound() throws {
        let d = try TempDir("stlog")
        defer { d.remove() }
        let dir = StateDirectory(path: d.path)
        let commit = String(repeating: "a", count: 40)
        let log = d.path + "/state.log"
        try dir.saveState(Self.state(100))
        var one = try dir.loadState(commit: commit)
        one.items[0].change = .modified
        try dir.saveState(one, appendingTo: try dir.loadState(commit: commit))
        let good = try readWholeFile(log)
        try Data(good + Array(repeating: 0x41, count: 70)).write(to: URL(fileURLWithPath: log))
        let loaded = try dir.loadState(commit: commit)
        #expect(try Self.encoded(loaded) == Self.encoded(one))
        var two = loaded
        two.items[1].change = .modified
        try dir.saveState(two, appendingTo: loaded)
        let after = try readWholeFile(log)
        #expect(after.starts(with: good) && AppendLog.frames(after, from: StateLog.headerSize).end == after.count)
        #expect(try Self.encoded(dir.loadState(commit: commit)) == Self.encoded(two))
        // A log for another state.json: ignored (what a crash after the new base's rename leaves).
        var other = Self.state(100)
        other.lastExport = "2026-03-01T00:00:00Z"
        try AtomicFile.write(try JSONCoding.encode(other), to: d.path + "/state.json", mode: 0o600)
        try Data(after).write(to: URL(fileURLWithPath: log))
        #expect(try Self.encoded(dir.loadState(commit: commit)) == Self.encoded(other))
        // Batch after batch: the log never passes its bound; a new base takes it in.
        var k = 0
        var sawCompaction = false
        while k < 400 {
            let old = try dir.loadState(commit: commit)
            var next = old
            next.items[k % 100].firstSeen = "2026-02-02T00:00:\(String(format: "%02d", k % 60))Z"
            next.lastScan = "2026-02-03T00:\(String(format: "%02d", k / 60)):\(String(format: "%02d", k % 60))Z"
            try dir.saveState(next, appendingTo: old)
            let size = (try? FileSystem.lstat(log)).map { Int($0.size) }
            if size == nil { sawCompaction = true }
            #expect((size ?? 0) <= StateLog.bound(baseSize: 1))
            #expect(try Self.encoded(dir.loadState(commit: commit)) == Self.encoded(next))
            k += 1
        }
        #expect(sawCompaction)
    }

    @Test("drift watch: a one-file batch beside 3,000 drifted files appends to state.log; a scan compacts it")
    func watchBatchAppends() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        // 3,000 drifted code files: a state.json of hundreds of KiB.
        try sh("mkdir -p lib && for d in $(seq 1 3); do mkdir -p lib/d$d && for i in $(seq 1 1000); do "
               + "echo \"v = $i\" > lib/d$d/m$i.py; done; done", cwd: f.workspace)
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady(timeout: 120)
        let stateFile = f.state + "/state.json", log = f.state + "/state.log"
        let base = try FileSystem.lstat(stateFile)
        #expect(base.size > 200_000, "state.json is \(base.size) B")
        let logBefore = (try? FileSystem.lstat(log)).map { Int($0.size) } ?? 0
        try sh("echo 'HOTFIX = 1' >> worker/util.py", cwd: f.workspace)
        try waitUntil(60, "the edit in the state") { stateItems(f.state)["worker/util.py"] == "modified" }
        #expect(try FileSystem.lstat(stateFile) == base, "a one-file batch rewrote state.json")
        let logAfter = Int(try FileSystem.lstat(log).size)
        #expect(logAfter - logBefore < 4_096, "a one-file batch wrote \(logAfter - logBefore) B of state")
        // drift status reads the fold.
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.out.contains("worker/util.py"), "\(status.out)")
        #expect(w.terminate() == 0, "\(w.stderr)")
        // A scan writes state.json whole and removes the log, crash-safe at every write; the
        // item is kept with its first sighting.
        let folded = try StateDirectory(path: f.state).loadState(commit: try Self.commit(f.state))
        usleep(2_100_000)  // past the stat cache's racy margin: runs that do the same work write the same bytes
        try KillLoop(label: "scan over state.log", dirs: [f.state], expect: 1, now: "2030-01-01T00:00:00Z",
                     argv: ["scan", "--manifest", f.mdir, "--state", f.state]).verify { r in
            #expect(r.code == 1, "\(r.err)")
        }
        #expect(FileSystem.isAbsent(log))
        let after = try StateDirectory(path: f.state).loadState(commit: try Self.commit(f.state))
        let seen = folded.items.first { $0.path == "worker/util.py" }?.firstSeen
        #expect(seen != nil && after.items.first { $0.path == "worker/util.py" }?.firstSeen == seen)
    }

    static func commit(_ sdir: String) throws -> String {
        let j = try JSONSerialization.jsonObject(with: Data(readWholeFile(sdir + "/state.json"))) as? [String: Any]
        return j?["commit"] as? String ?? ""
    }
}
