import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// `drift watch`'s partial rescans never leave the root: every directory component of a
/// rescanned path is looked up beneath the root with no symlink, so a watched directory
/// swapped for a symlink to an outside directory lists and records nothing from there.
@Suite("drift watch: containment", .serialized)
struct WatchContainmentTests {
    static let outsideMarker = "OUTSIDE-ONLY-5e21"

    /// Outside the root: `inner/evil.py` and `m0.py`, names a rescan of `worker/sub` would ask for.
    static func makeOutside(_ f: Fixture) throws -> String {
        let outside = f.dir.sub("outside")
        try write(outside + "/inner/evil.py", "print('\(outsideMarker)')\n")
        try write(outside + "/m0.py", "x = '\(outsideMarker)'\n")
        try write(outside + "/inner/deeper/more.py", "y = '\(outsideMarker)'\n")
        return outside
    }

    @Test("a component swapped for a symlink: the partial scan lists and stats nothing outside")
    func partialScanBeneath() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("mkdir -p worker/sub/inner && echo 'x = 0' > worker/sub/m0.py && echo 'i = 1' > worker/sub/inner/i.py",
               cwd: f.workspace)
        try f.bake()
        let outside = try Self.makeOutside(f)
        // The watched directory is now a symlink to the outside directory (a different name
        // and depth than the scope asks for: the symlink is a middle component).
        try sh("mv worker/sub worker/sub.real && ln -s '\(outside)' worker/sub", cwd: f.workspace)

        let runner = ScanRunner(manifestDir: ManifestDirectory(path: f.mdir), root: nil,
                                state: StateDirectory(path: f.state))
        let context = try runner.loadAndWalk().context
        var scope = ScanScope()
        scope.trees = [Array("worker/sub/inner".utf8), Array("worker/sub/inner/deeper".utf8)]
        scope.paths = [Array("worker/sub/m0.py".utf8), Array("worker/sub/inner/evil.py".utf8)]
        var entered: [String] = []
        let part = try PartialScan(context: context, classifier: Classifier(policy: context.policy))
            .compare(&scope, cache: StatCache(), now: Date()) { entered.append(String(decoding: $0, as: UTF8.self)) }
        let listed = part.walk.entries.map { String(decoding: $0.path, as: UTF8.self) }
        #expect(listed.isEmpty, "listed through the symlink: \(listed)")
        #expect(entered.isEmpty, "entered through the symlink: \(entered)")
        #expect(part.unreadable.isEmpty && part.walk.issues.isEmpty, "\(part.walk.issues)")
        // What the manifest had there is gone from the tree; nothing new appeared.
        let changes = Dictionary(uniqueKeysWithValues: part.result.changes.map {
            (String(decoding: $0.path, as: UTF8.self), $0.change.rawValue)
        })
        #expect(changes == ["worker/sub/m0.py": "deleted", "worker/sub/inner/i.py": "deleted"], "\(changes)")
        #expect(part.result.contents.isEmpty && part.result.newCache.entries.isEmpty)

        // The walker itself, started below a symlink component: an unreadable directory, no entry.
        var seen: [[UInt8]] = []
        let issues = try DirectoryWalker(root: Array(f.workspace.utf8))
            .walk(below: Array("worker/sub/inner".utf8), descend: { _ in true }, visit: { p, _ in seen.append(p) })
        #expect(seen.isEmpty && issues.count == 1 && issues.first?.unreadableDirectory == true, "\(issues)")
    }

    @Test("a watched directory swapped for a symlink to an outside directory: nothing outside is recorded")
    func watchedDirectorySwapped() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("mkdir -p worker/sub/inner && echo 'x = 0' > worker/sub/m0.py", cwd: f.workspace)
        try f.bake()
        let outside = try Self.makeOutside(f)
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        let ws = f.workspace
        // Writes into the watched directory while it is exchanged with a symlink to the outside
        // directory again and again: events name paths below `worker/sub` whose lookup, at the
        // rescan, may meet the symlink at any moment between the stat and the walk.
        let flipper = """
            import ctypes, os, sys, time
            libc = ctypes.CDLL(None, use_errno=True)
            ws, outside = sys.argv[1], sys.argv[2]
            d, link = (ws + "/worker/sub").encode(), (ws + "/worker/alt").encode()
            os.symlink(outside, ws + "/worker/alt")
            for i in range(60):
                with open(ws + "/worker/sub/inner/w%d.py" % (i % 7), "w") as f:
                    f.write("w = %d\\n" % i)
                libc.renameat2(-100, d, -100, link, 2)
                time.sleep(0.01 + (i % 5) * 0.004)
                libc.renameat2(-100, d, -100, link, 2)
                time.sleep(0.003)
            # End swapped: worker/sub is the symlink, the real directory is worker/alt.
            libc.renameat2(-100, d, -100, link, 2)
            """
        try Data(flipper.utf8).write(to: URL(fileURLWithPath: f.dir.sub("flip.py")))
        try sh("python3 '\(f.dir.sub("flip.py"))' '\(ws)' '\(outside)'")
        // Converged by batches, no batch failing (a failed batch waits for a full scan a minute
        // later): each drops what was below a path that is no longer a directory, and walks a
        // path it held as a symlink once it is a directory again (WatchSwapBatchTests).
        try f.waitConverged(timeout: 30)
        #expect(!w.stderr.contains("batch failed"), "\(w.stderr)")
        let want = try f.oracle()
        #expect(want["worker/sub"] != nil && want["worker/alt/m0.py"] == "added", "\(want)")
        #expect(w.terminate() == 0)

        // Neither state.json nor any snapshot in the journal's history names or holds anything
        // from outside (evil.py, more.py, the marker), and nothing below the symlink but the
        // baked file (deleted) and the files written there while it was still the directory.
        let below = stateItems(f.state).filter { $0.key.hasPrefix("worker/sub/") }
        let inside = Set(["worker/sub/m0.py"] + (0..<7).map { "worker/sub/inner/w\($0).py" })
        #expect(Set(below.keys).isSubset(of: inside), "\(below)")
        #expect(below == ["worker/sub/m0.py": "deleted"], "\(below)")
        let history = try run(["git", "--git-dir=\(f.state)/journal.git", "log", "-p", "--format=%B",
                               "refs/heads/journal"])
        #expect(history.code == 0 && !history.out.isEmpty, "\(history.err)")
        for needle in [Self.outsideMarker, "evil.py", "more.py"] {
            #expect(!history.out.contains(needle), "the journal's history holds \(needle)")
        }
        let log = try String(contentsOfFile: w.errFile, encoding: .utf8) + w.stdout
        #expect(!log.contains("evil.py") && !log.contains(Self.outsideMarker), "\(log)")
    }
}
