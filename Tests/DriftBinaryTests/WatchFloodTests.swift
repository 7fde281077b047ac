import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// A paced bulk unpack into a data path under `drift watch` (incident 12, F15 and F3): the
/// watcher holds the flood's data for one snapshot instead of one growing snapshot per batch,
/// and a code edit saved during it is journaled ahead of the data, in a batch of its own.
@Suite("drift watch: a data flood", .serialized)
struct WatchFloodTests {
    static let files = 3000

    /// The data paths under `dir` each snapshot (newest first) names, from `drift log --format json`.
    static func named(_ f: Fixture, under dir: String, or code: String) throws -> [(data: Int, code: Bool)] {
        let r = try drift(["log", "--manifest", f.mdir, "--state", f.state, "--format", "json"])
        #expect(r.code == 0, "\(r.err)")
        let j = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        let snaps = j["snapshots"] as? [[String: Any]] ?? []
        return snaps.map { s in
            let entries = s["entries"] as? [[String: Any]] ?? []
            // A summary entry (a directory of many files) counts its files.
            let data = entries.filter { ($0["path"] as? String)?.hasPrefix(dir) == true }
                .reduce(0) { $0 + (($1["count"] as? Int) ?? 1) }
            return (data, entries.contains { $0["path"] as? String == code })
        }
    }

    @Test("a paced unpack of data files: no snapshot holds part of it; a code edit during it is journaled first")
    func pacedUnpack() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        let before = f.snapshots().count
        // 3,000 files into the policy's data path (packages/models/), paused every 20 files (a tar
        // slowed by load); the hotfix is saved half way through, while data events still arrive.
        let script = """
            import os, time
            d = "packages/models/flood"
            os.makedirs(d)
            for i in range(\(Self.files)):
                with open(f"{d}/w{i:05d}.bin", "w") as fh:
                    fh.write(f"weights {i}\\n")
                if i == \(Self.files / 2):
                    with open("worker/util.py", "a") as fh:
                        fh.write("HOTFIX = 1\\n")
                if i % 20 == 19:
                    time.sleep(0.03)
            """
        try write(f.dir.sub("unpack.py"), script)
        try sh("python3 '\(f.dir.sub("unpack.py"))'", cwd: f.workspace)
        // The watcher's state lists a new data directory as one summary item (a fresh scan lists
        // its files): wait for the journal's latest snapshot to hold the hotfix and every file.
        var snaps: [(data: Int, code: Bool)] = []
        try waitUntil(60, "a snapshot of the hotfix and all \(Self.files) data files") {
            snaps = try Self.named(f, under: "packages/models/flood", or: "worker/util.py")
            return snaps.first.map { $0.code && $0.data == Self.files } == true
        }
        #expect(w.terminate() == 0)
        let new = Array(snaps.prefix(f.snapshots().count - before).reversed())
        // The data is recorded once it is whole (the flood's window is 30 s, the unpack a few seconds).
        let partial = new.filter { $0.data > 0 && $0.data < Self.files }
        #expect(partial.isEmpty, "snapshots holding part of the unpack: \(new.map(\.data))")
        #expect(new.last?.data == Self.files, "\(new.map(\.data))")
        // The hotfix's first snapshot came before any snapshot of the data (its batch went ahead).
        let first = new.first { $0.code }
        #expect(first != nil && first?.data == 0, "\(new)")
        #expect(new.count <= 6, "\(new.count) snapshots for one unpack: \(new.map(\.data))")
    }
}
