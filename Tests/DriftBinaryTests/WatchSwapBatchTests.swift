import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// One `drift watch` batch after a watched directory stopped being one, step by step: the full
/// scan's result, the tree changed, then exactly the scope the watcher's events give (the
/// single path the rename or create names, no tree) compared and merged, as `Watcher.batch`
/// does. Whatever the last scan recorded below the path is dropped and the baked files below
/// it are reported deleted in that one batch; nothing from outside the root is listed.
@Suite("drift watch: a directory replaced, one batch", .serialized)
struct WatchSwapBatchTests {
    static let baked = ["worker/sub/m0.py", "worker/sub/inner/i.py"]

    /// A baked tree, plus files the full scan records below `worker/sub` as added.
    static func fixture() throws -> Fixture {
        let f = try Fixture()
        try sh("mkdir -p worker/sub/inner && echo 'x = 0' > worker/sub/m0.py && echo 'i = 1' > worker/sub/inner/i.py",
               cwd: f.workspace)
        try f.bake()
        try sh("echo 'n = 2' > worker/sub/inner/new.py && echo 'm = 3' > worker/sub/more.py", cwd: f.workspace)
        return f
    }

    struct Batch {
        var model: DriftCore.Scanner.Result
        var part: PartialScan.Outcome
        var entered: [String]
    }

    /// The full scan's result with a batch of `paths` (and `trees`) merged in after `change`.
    static func batch(_ f: Fixture, paths: [String], trees: [String] = [], change: () throws -> Void,
                      entering: ([UInt8]) -> Void = { _ in }) throws -> Batch {
        let runner = ScanRunner(manifestDir: ManifestDirectory(path: f.mdir), root: nil,
                                state: StateDirectory(path: f.state))
        let loaded = try runner.loadAndWalk()
        var model = try runner.find(loaded, now: Date()).result
        let before = Set(model.changes.map { String(decoding: $0.path, as: UTF8.self) })
        #expect(before == ["worker/sub/inner/new.py", "worker/sub/more.py"], "\(before)")
        try change()
        var scope = ScanScope()
        scope.paths = Set(paths.map { Array($0.utf8) })
        scope.trees = Set(trees.map { Array($0.utf8) })
        var entered: [String] = []
        let part = try PartialScan(context: loaded.context, classifier: Classifier(policy: loaded.context.policy))
            .compare(&scope, cache: model.newCache, now: Date()) {
                entered.append(String(decoding: $0, as: UTF8.self))
                entering($0)
            }
        model.replace(scope, with: part.result)
        return Batch(model: model, part: part, entered: entered)
    }

    static func changes(_ r: DriftCore.Scanner.Result) -> [String: String] {
        Dictionary(uniqueKeysWithValues: r.changes.map {
            (String(decoding: $0.path, as: UTF8.self), $0.change.rawValue)
        })
    }

    static func cached(_ r: DriftCore.Scanner.Result) -> [String] {
        r.newCache.entries.indices.map { String(decoding: r.newCache.entries.path($0), as: UTF8.self) }
    }

    /// No present path of the result is both an entry and a directory above another present
    /// one (a journal tree cannot hold it; a deleted path is in no tree).
    static func isTree(_ r: DriftCore.Scanner.Result) -> Bool {
        let present = r.changes.filter { $0.change != .deleted }
        let paths = Set(present.map { $0.path })
        return !present.contains { c in
            c.path.indices.contains { c.path[$0] == UInt8(ascii: "/") && paths.contains(Array(c.path[..<$0])) }
        }
    }

    static let outsideMarker = "OUTSIDE-ONLY-77c1"

    static func makeOutside(_ f: Fixture) throws -> String {
        let outside = f.dir.sub("outside")
        try write(outside + "/inner/evil.py", "print('\(outsideMarker)')\n")
        try write(outside + "/m0.py", "x = '\(outsideMarker)'\n")
        return outside
    }

    /// What every replacement must give: the path's own verdict, the baked files below it
    /// deleted, nothing else below it, no stat-cache record below it.
    static func expectReplaced(_ b: Batch, own: String?, _ label: String) {
        var want = ["worker/sub/m0.py": "deleted", "worker/sub/inner/i.py": "deleted"]
        if let own { want["worker/sub"] = own }
        #expect(changes(b.model) == want, "\(label): \(changes(b.model))")
        #expect(!cached(b.model).contains { $0.hasPrefix("worker/sub/") }, "\(label): \(cached(b.model))")
        #expect(isTree(b.model), "\(label)")
        #expect(b.entered.isEmpty, "\(label): entered \(b.entered)")
        #expect(b.part.unreadable.isEmpty, "\(label): \(b.part.walk.issues)")
    }

    @Test("replaced by a symlink to an outside directory: the baked files deleted, nothing from outside")
    func bySymlink() throws {
        let f = try Self.fixture()
        defer { f.dir.remove() }
        let outside = try Self.makeOutside(f)
        let b = try Self.batch(f, paths: ["worker/sub"]) {
            try sh("mv worker/sub worker/alt && ln -s '\(outside)' worker/sub", cwd: f.workspace)
        }
        Self.expectReplaced(b, own: "added", "symlink")
        #expect(!b.part.walk.entries.contains { String(decoding: $0.path, as: UTF8.self).contains("evil") })
    }

    @Test("exchanged with a symlink in one rename (RENAME_EXCHANGE): the same, for both names")
    func exchanged() throws {
        let f = try Self.fixture()
        defer { f.dir.remove() }
        let outside = try Self.makeOutside(f)
        let ws = f.workspace
        let b = try Self.batch(f, paths: ["worker/sub", "worker/alt"]) {
            try sh("ln -s '\(outside)' worker/alt", cwd: ws)
            let swap = "import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); "
                + "sys.exit(libc.renameat2(-100, b'worker/sub', -100, b'worker/alt', 2))"
            try sh("python3 -c \"\(swap)\"", cwd: ws)
        }
        var want = ["worker/sub/m0.py": "deleted", "worker/sub/inner/i.py": "deleted", "worker/sub": "added",
                    "worker/alt/m0.py": "added", "worker/alt/inner/i.py": "added"]
        want["worker/alt/inner/new.py"] = "added"
        want["worker/alt/more.py"] = "added"
        #expect(Self.changes(b.model) == want, "\(Self.changes(b.model))")
        #expect(!Self.cached(b.model).contains { $0.hasPrefix("worker/sub/") }, "\(Self.cached(b.model))")
        #expect(Self.isTree(b.model))
        #expect(!b.entered.contains { $0.hasPrefix("worker/sub") }, "\(b.entered)")
    }

    @Test("replaced by a file, by a FIFO, removed: the baked files deleted in the same batch")
    func byFileFifoOrNothing() throws {
        let cases: [(String, String?)] = [
            ("rm -rf worker/sub && echo 'f = 1' > worker/sub", "added"),
            ("rm -rf worker/sub && mkfifo worker/sub", "added"),
            ("rm -rf worker/sub", nil),
            // Renamed over: a file moved onto the directory's name (rename(2) cannot replace a
            // non-empty directory with a file, so the directory goes first, as `mv -T` would need).
            ("echo 'r = 1' > worker/repl.py && mv worker/sub worker/old && mv worker/repl.py worker/sub", "added"),
        ]
        for (script, own) in cases {
            let f = try Self.fixture()
            defer { f.dir.remove() }
            let b = try Self.batch(f, paths: ["worker/sub"]) { try sh(script, cwd: f.workspace) }
            var c = Self.changes(b.model)
            c = c.filter { !$0.key.hasPrefix("worker/old/") }
            var want = ["worker/sub/m0.py": "deleted", "worker/sub/inner/i.py": "deleted"]
            if let own { want["worker/sub"] = own }
            #expect(c == want, "\(script): \(c)")
            #expect(!Self.cached(b.model).contains { $0.hasPrefix("worker/sub/") }, "\(script)")
            #expect(Self.isTree(b.model), "\(script)")
            #expect(b.part.unreadable.isEmpty, "\(script): \(b.part.walk.issues)")
        }
    }

    @Test("removed and re-created as a directory: walked whole, the files below as they are now")
    func recreated() throws {
        let f = try Self.fixture()
        defer { f.dir.remove() }
        let b = try Self.batch(f, paths: ["worker/sub"]) {
            try sh("rm -rf worker/sub && mkdir -p worker/sub/inner && echo 'x = 0' > worker/sub/m0.py",
                   cwd: f.workspace)
        }
        #expect(Self.changes(b.model) == ["worker/sub/inner/i.py": "deleted"], "\(Self.changes(b.model))")
        #expect(Self.isTree(b.model))
        #expect(Set(b.entered) == ["worker/sub", "worker/sub/inner"], "\(b.entered)")
    }

    @Test("a symlink the model holds where a directory is again: the batch that looks through it walks it whole")
    func directoryBack() throws {
        let f = try Self.fixture()
        defer { f.dir.remove() }
        let outside = try Self.makeOutside(f)
        // The model after the directory became a symlink (one batch), then it is back and an
        // event names a file below it only (the rename's own event not batched yet).
        var b = try Self.batch(f, paths: ["worker/sub"]) {
            try sh("mv worker/sub worker/alt && ln -s '\(outside)' worker/sub", cwd: f.workspace)
        }
        try sh("rm worker/sub && mv worker/alt worker/sub && echo 'w = 1' > worker/sub/inner/w.py", cwd: f.workspace)
        var scope = ScanScope()
        scope.paths = [Array("worker/sub/inner/w.py".utf8)]
        let runner = ScanRunner(manifestDir: ManifestDirectory(path: f.mdir), root: nil,
                                state: StateDirectory(path: f.state))
        let context = try runner.loadAndWalk().context
        let partial = PartialScan(context: context, classifier: Classifier(policy: context.policy))
        var part = try partial.compare(&scope, cache: b.model.newCache, now: Date()) { _ in }
        let stale = b.model.driftedAncestors(of: part.result.changes, outside: scope)
        #expect(stale == [Array("worker/sub".utf8)], "\(stale)")
        scope.trees.formUnion(stale)
        part = try partial.compare(&scope, cache: b.model.newCache, now: Date()) { _ in }
        b.model.replace(scope, with: part.result)
        #expect(Self.changes(b.model) == ["worker/sub/inner/new.py": "added", "worker/sub/more.py": "added",
                                          "worker/sub/inner/w.py": "added"], "\(Self.changes(b.model))")
        #expect(Self.isTree(b.model))
    }

    @Test("swapped for a symlink while the batch walks it: nothing from outside, the rest left to the next batch")
    func swappedDuringWalk() throws {
        let f = try Self.fixture()
        defer { f.dir.remove() }
        let outside = try Self.makeOutside(f)
        let ws = f.workspace
        var swapped = false
        // Entering `worker/sub/inner` (the walk has `worker/sub` open): the directory goes, the symlink comes.
        let b = try Self.batch(f, paths: [], trees: ["worker/sub"], change: {}, entering: { dir in
            guard !swapped, dir == Array("worker/sub/inner".utf8) else { return }
            swapped = true
            _ = try? sh("mv worker/sub worker/alt && ln -s '\(outside)' worker/sub", cwd: ws)
        })
        #expect(swapped)
        let listed = b.part.walk.entries.map { String(decoding: $0.path, as: UTF8.self) }
        #expect(!listed.contains { $0.contains("evil") }, "\(listed)")
        // `inner` could not be opened beneath the root: unreadable (vanished), so its baked file
        // is not called deleted on a guess; the watcher walks `worker/sub` again, which now
        // gives the final answer in one batch.
        #expect(b.part.unreadable.map { String(decoding: $0, as: UTF8.self) } == ["worker/sub/inner"])
        var scope = ScanScope()
        scope.trees = [Array("worker/sub".utf8)]
        let runner = ScanRunner(manifestDir: ManifestDirectory(path: f.mdir), root: nil,
                                state: StateDirectory(path: f.state))
        let context = try runner.loadAndWalk().context
        var model = b.model
        let part = try PartialScan(context: context, classifier: Classifier(policy: context.policy))
            .compare(&scope, cache: model.newCache, now: Date()) { _ in }
        model.replace(scope, with: part.result)
        #expect(Self.changes(model) == ["worker/sub": "added", "worker/sub/m0.py": "deleted",
                                        "worker/sub/inner/i.py": "deleted"], "\(Self.changes(model))")
        #expect(Self.isTree(model))
    }

    @Test("one name pending as a path and as a directory: one whole walk, never the path alone first")
    func pendingFolds() {
        let rule = PendingChanges.PipRule(settle: 0.2, cap: 600, busy: false)
        let sub = Array("worker/sub".utf8)
        // The symlink's rename (ready at once) after the directory's (settles): both wait for the walk.
        var p = PendingChanges()
        p.touch(tree: sub, at: 10)
        p.touch(path: sub, at: 10, complete: true)
        var (scope, _) = p.takeReady(now: 10, settle: 0.2, maxWait: 2, pipRule: rule)
        #expect(scope.isEmpty)
        (scope, _) = p.takeReady(now: 10.3, settle: 0.2, maxWait: 2, pipRule: rule)
        #expect(scope.trees == [sub] && scope.paths.isEmpty, "\(scope)")
        // The other order: the path first, then the directory event of the same name.
        p.touch(path: sub, at: 20, complete: true)
        p.touch(tree: sub, at: 20.1)
        #expect(p.count == 1)
        (scope, _) = p.takeReady(now: 20.4, settle: 0.2, maxWait: 2, pipRule: rule)
        #expect(scope.trees == [sub] && scope.paths.isEmpty, "\(scope)")
    }
}
