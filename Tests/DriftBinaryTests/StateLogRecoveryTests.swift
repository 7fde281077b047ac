import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// A `state.log` record that checksums but does not decode is recovered, never an exit-2 loop
/// and never a silent stop (docs/state.md, "Recovery, never an exit-2 loop").
@Suite("State log recovery", .serialized)
struct StateLogRecoveryTests {
    /// `log` with its `index`th record's payload replaced by `payload`, checksummed as drift
    /// would (a forgery, or a record of a drift that wrote another shape).
    static func forge(_ log: [UInt8], record index: Int, payload: [UInt8]) throws -> [UInt8] {
        let frames = AppendLog.frames(log, from: StateLog.headerSize).payloads
        var out = Array(log.prefix(StateLog.headerSize))
        for (k, p) in frames.enumerated() {
            out += try AppendLog.frame(k == index ? payload : Array(p))
        }
        return out
    }

    static func firstSeen(_ sdir: String, _ commit: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for i in try StateDirectory(path: sdir).loadState(commit: commit).items { out[i.path] = i.firstSeen }
        return out
    }

    @Test("a watch batch's record forged to checksum but not decode: read on; a scan recovers, crash-safe")
    func forgedRecord() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady(timeout: 120)
        // Two batches, two records: the first puts worker/util.py, the second worker/extra.py.
        try sh("echo 'HOTFIX = 1' >> worker/util.py", cwd: f.workspace)
        try waitUntil(60, "the first edit in the state") { stateItems(f.state)["worker/util.py"] == "modified" }
        usleep(1_100_000)
        try sh("echo 'X = 2' > worker/extra.py", cwd: f.workspace)
        try waitUntil(60, "the second edit in the state") { stateItems(f.state)["worker/extra.py"] == "added" }
        // The journal has recorded the second batch too (its snapshot lists both paths).
        try waitUntil(60, "the second batch journaled") {
            let log = try? sh("git --git-dir='\(f.state)/journal.git' log --format=%B -1 refs/heads/journal")
            return log?.contains("worker/extra.py") == true
        }
        #expect(w.terminate() == 0, "\(w.stderr)")
        let commit = try StateLogTests.commit(f.state)
        let seen = try Self.firstSeen(f.state, commit)
        #expect(seen["worker/util.py"] != nil && seen["worker/extra.py"] != nil, "\(seen)")

        let logFile = f.state + "/state.log"
        let log = try readWholeFile(logFile)
        let records = AppendLog.frames(log, from: StateLog.headerSize).payloads
        let first = try #require(records.firstIndex { String(decoding: $0, as: UTF8.self).contains("worker/util.py") })
        #expect(records.count > first + 1, "no record after the one to forge: \(records.count)")
        // Valid JSON, valid checksum, not a record: `put` is a number.
        let forged = try Self.forge(log, record: first, payload: Array(#"{"fields":{},"put":7,"remove":[]}"#.utf8))
        try Data(forged).write(to: URL(fileURLWithPath: logFile))

        // Readers go on: the records after the forged one fold; the journal fills in its put.
        let folded = try StateDirectory(path: f.state).loadState(commit: commit)
        #expect(folded.recovered?.damaged == .log)
        #expect(folded.items.first { $0.path == "worker/extra.py" }?.firstSeen == seen["worker/extra.py"])
        #expect(folded.items.first { $0.path == "worker/util.py" }?.firstSeen == seen["worker/util.py"])
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.code == 0 && status.out.contains("worker/extra.py"), "\(status.code) \(status.err)")

        // The scan that recovers: crash-safe at every write, then quiet.
        usleep(2_100_000)  // past the stat cache's racy margin: runs that do the same work write the same bytes
        try KillLoop(label: "scan over a forged state.log record", dirs: [f.state], expect: 1,
                     now: "2030-01-01T00:00:00Z",
                     argv: ["scan", "--manifest", f.mdir, "--state", f.state]).verify { r in
            #expect(r.code == 1, "\(r.err)")
        }
        #expect(FileSystem.isAbsent(logFile))
        #expect(try readWholeFile(f.state + "/state.log.damaged") == forged, "the forged log is kept aside")
        #expect(try Self.firstSeen(f.state, commit).filter { seen[$0.key] != nil } == seen,
                "first sightings restarted")
        let again = try drift(["scan", "--manifest", f.mdir, "--state", f.state],
                              env: ["DRIFT_TEST_NOW": "2030-01-01T00:01:00Z"])
        #expect(again.code == 1 && again.err.isEmpty, "\(again.err)")
    }

    @Test("the recovering scan says which record and where the log went (exit is the scan's)")
    func warning() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 2' >> worker/util.py", cwd: f.workspace)
        let r1 = try drift(["scan", "--manifest", f.mdir, "--state", f.state],
                           env: ["DRIFT_TEST_NOW": "2030-01-01T00:00:00Z"])
        #expect(r1.code == 1, "\(r1.err)")
        let commit = try StateLogTests.commit(f.state)
        let dir = StateDirectory(path: f.state)
        // One good record, one for another base commit, one good: the last one's fields win.
        let old = try dir.loadState(commit: commit)
        var next = old
        next.lastExport = "2030-01-01T00:00:30Z"
        try dir.saveState(next, appendingTo: old)
        var other = try dir.loadState(commit: commit)
        let prior = other
        other.commit = String(repeating: "b", count: 40)
        other.lastExport = "2030-01-01T00:00:40Z"
        try dir.saveState(other, appendingTo: prior)
        var third = try dir.loadState(commit: commit)
        #expect(third.recovered?.why.contains("record 2 of 2 is for another state") == true,
                "\(String(describing: third.recovered))")
        #expect(third.lastExport == "2030-01-01T00:00:30Z")
        // A log over the read cap (never written by drift): recovered too, not exit 2.
        third.recovered = nil
        let big = f.state + "/state.log"
        try sh("cp '\(big)' '\(big).keep' && truncate -s \(StateDirectory.stateReadLimit + 1) '\(big)'")
        let s = try drift(["scan", "--manifest", f.mdir, "--state", f.state],
                          env: ["DRIFT_TEST_NOW": "2030-01-01T00:01:00Z"])
        #expect(s.code == 1, "\(s.err)")
        #expect(s.err.contains("drift: warning: \(big) is larger than") && s.err.contains("state.log.damaged"),
                "\(s.err)")
        #expect(FileSystem.isAbsent(big))
        #expect(try FileSystem.lstat(f.state + "/state.log.damaged").size == Int64(StateDirectory.stateReadLimit + 1))
        // The other-state record, through a scan: named, and the state settles.
        try sh("mv '\(big).keep' '\(big)'")
        try AtomicFile.write(try JSONCoding.encode(old), to: f.state + "/state.json", mode: 0o600)
        let b = try readWholeFile(big)
        let id = try SHA256Hasher.digest(readWholeFile(f.state + "/state.json")).bytes
        try Data(Array(b.prefix(8)) + id + Array(b.dropFirst(StateLog.headerSize))).write(to: URL(fileURLWithPath: big))
        let t = try drift(["scan", "--manifest", f.mdir, "--state", f.state],
                          env: ["DRIFT_TEST_NOW": "2030-01-01T00:02:00Z"])
        #expect(t.code == 1, "\(t.err)")
        #expect(t.err.contains("drift: warning: \(big): record 2 of 2 is for another state")
                && t.err.contains("(the old log is \(f.state)/state.log.damaged)"), "\(t.err)")
        let u = try drift(["scan", "--manifest", f.mdir, "--state", f.state],
                          env: ["DRIFT_TEST_NOW": "2030-01-01T00:03:00Z"])
        #expect(u.code == 1 && u.err.isEmpty, "\(u.err)")
    }
}
