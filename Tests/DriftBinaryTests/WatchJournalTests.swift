import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// The watcher's snapshots are built incrementally (blob ids of unchanged drift reused, a
/// burst's new blobs written as one pack): what they record must be exactly what a plain
/// `drift scan` records for the same tree.
@Suite("drift watch: journal", .serialized)
struct WatchJournalTests {
    /// The latest snapshot's tree and Drift-Id in a state dir's journal.
    static func latest(_ state: String) throws -> (tree: String, id: String) {
        let git = ["git", "--git-dir=\(state)/journal.git"]
        let tree = try run(git + ["rev-parse", "refs/heads/journal^{tree}"])
        let msg = try run(git + ["log", "-1", "--format=%(trailers:key=Drift-Id,valueonly)", "refs/heads/journal"])
        return (tree.out.trimmingCharacters(in: .whitespacesAndNewlines),
                msg.out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("after a burst and edits across batches, the snapshot equals a fresh scan's: tree, Drift-Id, fsck clean")
    func sameAsScan() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        let ws = f.workspace
        // A burst of new files (more than a pack's threshold), then edits in later batches:
        // some burst files rewritten, some left as they were (their blobs reused), one
        // reverted to its baked content, one made executable, one deleted.
        try sh("mkdir -p burst/a burst/b && for i in $(seq 1 150); do "
               + "echo \"v = $i\" > burst/$((i % 2 == 0 ? 1 : 0))$i.py; "
               + "done && mv burst/1*.py burst/a/ && mv burst/0*.py burst/b/", cwd: ws)
        try f.waitConverged(timeout: 30)
        try sh("echo 'HOTFIX = 1' >> worker/util.py && echo 'w = 2' > burst/a/12.py", cwd: ws)
        try f.waitConverged()
        try sh("echo 'w = 3' > burst/a/14.py && chmod +x burst/b/03.py && rm burst/b/05.py", cwd: ws)
        try sh("git -C '\(f.upstream)' show HEAD:worker/util.py > worker/util.py", cwd: ws)
        let want = try f.waitConverged()
        #expect(want["burst/a/14.py"] == "added" && want["worker/util.py"] == nil, "\(want)")
        // The journal catches up with state.json in the same record.
        let watched = try Self.latest(f.state)
        #expect(w.terminate() == 0)

        let fresh = f.dir.sub("fresh-state")
        let scan = try drift(["scan", "--manifest", f.mdir, "--state", fresh])
        #expect(scan.code == 1, "\(scan.err)")
        let scanned = try Self.latest(fresh)
        #expect(watched.tree == scanned.tree, "the watcher's snapshot tree differs from a fresh scan's")
        #expect(!watched.id.isEmpty && watched.id == scanned.id, "Drift-Id \(watched.id) vs \(scanned.id)")
        let fsck = try run(["git", "--git-dir=\(f.state)/journal.git", "fsck", "--strict", "--no-dangling"])
        #expect(fsck.code == 0, "\(fsck.out)\(fsck.err)")
        // The burst's blobs went into a pack, not one loose file each.
        let packs = (try? FileManager.default.contentsOfDirectory(atPath: f.state + "/journal.git/objects/pack")) ?? []
        #expect(packs.contains { $0.hasSuffix(".pack") } && packs.contains { $0.hasSuffix(".idx") }, "\(packs)")
        let count = try run(["git", "--git-dir=\(f.state)/journal.git", "count-objects", "-v"])
        #expect(count.out.contains("in-pack: "), "\(count.out)")
        let inPack = count.out.split(separator: "\n").first { $0.hasPrefix("in-pack: ") }
            .flatMap { Int($0.dropFirst(9)) }
        #expect((inPack ?? 0) >= 150, "\(count.out)")
    }

    @Test("a secret that starts to match journaled code: the next snapshot withholds it (no cached blob reused)")
    func secretInvalidatesCache() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        let value = "k3y-\(UUID().uuidString.prefix(12))"
        try sh("printf 'API = \"\(value)\"\\n' > worker/hot.py && echo 'w = 1' > worker/other.py", cwd: f.workspace)
        try f.waitConverged()
        let git = ["git", "--git-dir=\(f.state)/journal.git"]
        #expect(try run(git + ["show", "refs/heads/journal:worker/hot.py"]).out.contains(value))
        // The secret file now holds the value the journaled code carries; the code is unchanged.
        try sh("printf 'TOKEN=\(value)\\n' > .env && echo 'w = 2' > worker/other.py", cwd: f.workspace)
        try f.waitConverged()
        try waitUntil(10, "a snapshot that withholds worker/hot.py") {
            let msg = try run(git + ["log", "-1", "--format=%B", "refs/heads/journal"]).out
            return msg.contains("worker/hot.py secret-content")
        }
        let tree = try run(git + ["ls-tree", "-r", "--name-only", "refs/heads/journal"]).out
        #expect(!tree.contains("worker/hot.py") && tree.contains("worker/other.py"), "\(tree)")
        let watched = try Self.latest(f.state)
        #expect(w.terminate() == 0)
        let fresh = f.dir.sub("fresh-state")
        _ = try drift(["scan", "--manifest", f.mdir, "--state", fresh])
        let scanned = try Self.latest(fresh)
        #expect(watched.tree == scanned.tree && watched.id == scanned.id, "\(watched) vs \(scanned)")
    }
}
