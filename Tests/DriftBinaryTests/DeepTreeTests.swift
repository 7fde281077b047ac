import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 21, point 2: walks without recursion on the stack. A 100,000-level chain ends in a
/// report naming the directory where the walk stopped, never a crash, for every walker.
@Suite("Deep directory chains")
struct DeepTreeTests {
    static let levels = 100_000

    /// `levels` nested directories named `d` below `parent` (each made relative to the
    /// previous one's descriptor: the path is far beyond PATH_MAX).
    static func chain(_ parent: String, levels: Int = levels) throws {
        var fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw DriftError("open \(parent): \(errnoText(errno))") }
        for _ in 0..<levels {
            guard mkdirat(fd, "d", 0o755) == 0 else { throw DriftError("mkdirat: \(errnoText(errno))") }
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            close(fd)
            guard next >= 0 else { throw DriftError("openat: \(errnoText(errno))") }
            fd = next
        }
        close(fd)
    }

    /// A tmpfs when there is a writable one: 100,000 directories on a loaded ext4 took 30 s to
    /// make and 7 minutes to remove; on tmpfs 2.5 s and 7 s.
    static var scratch: String {
        access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    }

    /// GNU rm walks with descriptors, not paths (Foundation's remove would recurse per level).
    static func removeAll(_ dir: TempDir) {
        _ = try? run(["rm", "-rf", dir.path], timeout: 600)
    }

    @Test("scan and manifest create: a 100,000-level chain stops at the walk limit, named, exit 3")
    func scanDeepChain() throws {
        let f = try Fixture(parent: Self.scratch)
        defer { Self.removeAll(f.dir) }
        try f.bake()
        try Self.chain(f.workspace + "/packages/models")
        let (r, report) = try f.scan()
        // Directories alone are not drift: the scan is incomplete, exit 3.
        #expect(r.code == 3, "\(r.err)")
        #expect(report["complete"] as? Bool == false)
        let errors = report["errors"] as? [[String: Any]] ?? []
        let deep = errors.first { ($0["message"] as? String ?? "").contains("deeper than") }
        let path = deep?["path"] as? String ?? ""
        #expect(path.hasPrefix("packages/models/d/d/"))
        #expect(WalkLimit.depth(Array(path.utf8)) == WalkLimit.maxDepth + 1)
        // Text says where, on one line.
        let text = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
        #expect(text.code == 3)
        #expect(text.out.contains("deeper than \(WalkLimit.maxDepth) directory levels: not walked"))

        // A bake of that tree cannot record it all: exit 3 naming the directory, nothing written.
        let mdir2 = f.dir.sub("mdir2")
        let bake = try drift(["manifest", "create", "--root", f.workspace, "--repo", f.upstream, "--output", mdir2],
                             timeout: 600)
        #expect(bake.code == 3, "\(bake.err)")
        #expect(bake.err.hasPrefix("drift: ") && bake.err.contains("packages/models/d/d/"))
        #expect(bake.err.contains("deeper than \(WalkLimit.maxDepth) directory levels"))
        #expect(!FileManager.default.fileExists(atPath: mdir2 + "/manifest.txt"))
    }

    @Test("watch: a 100,000-level chain under the root; it starts, watches, and stops cleanly")
    func watchDeepChain() throws {
        let f = try Fixture(parent: Self.scratch)
        defer { Self.removeAll(f.dir) }
        try f.bake()
        try Self.chain(f.workspace + "/worker")
        let watch = try WatchProcess(f)
        defer { watch.kill() }
        try watch.waitReady(timeout: 300)
        // A change elsewhere is still seen and recorded.
        try write(f.workspace + "/worker/util.py", "def helper(x):\n    return x + 9\n")
        try waitUntil(120, "the change recorded") {
            stateItems(f.state)["worker/util.py"] != nil
        }
        #expect(watch.terminate() == 0, "\(watch.stderr)")
        #expect(!watch.stderr.contains("Fatal"))
    }

    @Test("every walker is iterative: the unit walkers report the limit on a 5,000-level chain")
    func walkersStopAtLimit() throws {
        let dir = try TempDir(parent: Self.scratch)
        defer { Self.removeAll(dir) }
        try Self.chain(dir.path, levels: 5_000)
        let serial = try DirectoryWalker(root: Array(dir.path.utf8)).walk { _ in true }
        #expect(serial.entries.count == WalkLimit.maxDepth + 1)
        #expect(serial.errors.count == 1 && serial.errors[0].beyondLimit)
        let parallel = try TreeWalk.run(root: Array(dir.path.utf8), policy: Policy(), threads: 2)
        #expect(parallel.entries.count == WalkLimit.maxDepth + 1)
        #expect(parallel.issues.map(\.path) == serial.errors.map(\.path))
    }
}
