import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12, point 1: a tree that changes under drift cannot lead it outside the root.
@Suite("Containment: never outside the root")
struct ContainmentTests {
    static let strategies: [ResolveStrategy] = [.openat2, .componentChain]

    @Test("a symlink at any component is refused, with either resolver", arguments: strategies)
    func symlinkAtAnyComponent(strategy: ResolveStrategy) throws {
        let d = try TempDir("contain")
        defer { d.remove() }
        try sh("mkdir -p root/a/b outside/b && echo in > root/a/b/f && echo OUT > outside/b/f && mkfifo outside/b/p"
               + " && ln -s ../outside root/x && ln -s ../../outside/b root/a/y", cwd: d.path)
        let reader = FileReader(root: Array(d.sub("root").utf8), strategy: strategy)
        #expect(reader.directory.strategy == strategy)
        #expect(try reader.readAll(Array("a/b/f".utf8), limit: 100) == Array("in\n".utf8))
        for rel in ["x/b/f", "a/y/f", "x/b/p", "a/y/p", "a/../x/b/f", "/etc/hostname"] {
            #expect(throws: FileReadError.self) { try reader.readAll(Array(rel.utf8), limit: 100) }
        }
        // A FIFO inside the root is refused without blocking (O_NONBLOCK, then fstat).
        try sh("mkfifo root/a/b/q", cwd: d.path)
        #expect(throws: FileReadError.self) { try reader.readAll(Array("a/b/q".utf8), limit: 100) }
    }

    /// A helper that waits for drift to close `dir` (inotify IN_CLOSE_NOWRITE) and swaps it
    /// with a symlink to `outside` (renameat2 RENAME_EXCHANGE), then back a moment later.
    static let swapper = """
        import ctypes, os, sys, time
        libc = ctypes.CDLL(None, use_errno=True)
        d, link = sys.argv[1].encode(), sys.argv[2].encode()
        fd = libc.inotify_init1(0)
        libc.inotify_add_watch(fd, d, 0x10)
        print("ready", flush=True)
        while True:
            os.read(fd, 65536)
            libc.renameat2(-100, d, -100, link, 2)
            time.sleep(0.004)
            libc.renameat2(-100, d, -100, link, 2)
        """

    /// Starts the swapper on `root/worker/sub` ↔ symlink `root/worker/alt` → `outside`.
    static func startSwapper(_ d: TempDir) throws -> Process {
        try Data(swapper.utf8).write(to: URL(fileURLWithPath: d.sub("swap.py")))
        try sh("ln -s '\(d.sub("outside"))' root/worker/alt", cwd: d.path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", d.sub("swap.py"), d.sub("root/worker/sub"), d.sub("root/worker/alt")]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        _ = out.fileHandleForReading.readData(ofLength: 6)
        return p
    }

    static func stop(_ p: Process) {
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }

    static func makeTree(_ d: TempDir) throws {
        var script = "mkdir -p root/worker/sub outside && cd root/worker/sub"
        for i in 0..<8 { script += " && echo 'x = \(i)' > m\(i).py" }
        script += " && cd ../../../outside"
        for i in 0..<8 { script += " && echo 'OUTSIDE-\(i)' > m\(i).py" }
        try sh(script, cwd: d.path)
    }

    @Test("swap race: a directory exchanged with a symlink mid-scan never yields a byte from outside",
          arguments: strategies)
    func swapRace(strategy: ResolveStrategy) throws {
        let d = try TempDir("swaprace")
        defer { d.remove() }
        try Self.makeTree(d)
        let root = Array(d.sub("root").utf8)
        let policy = try Policy.builtIn()
        let manifest = Manifest(commit: String(repeating: "0", count: 40), root: root,
                                policySHA256: Digest(bytes: [UInt8](repeating: 0, count: 32)), entries: [])
        let outsideDigests = try Set((0..<8).map { try SHA256Hasher.digest(Array("OUTSIDE-\($0)\n".utf8)) })
        let swapper = try Self.startSwapper(d)
        defer { Self.stop(swapper) }
        var swapsSeen = 0
        // At least 200 scans, and on until one has met the swap (a quiet machine can run many
        // scans between two swaps), bounded at 4,000.
        for i in 0..<4000 {
            if i >= 200 && swapsSeen > 0 { break }
            var scanner = Scanner(manifest: manifest, policy: policy, root: root, cache: nil)
            scanner.strategy = strategy
            let r = try scanner.run(now: Date())
            for c in r.changes {
                #expect(c.new?.digest.map { !outsideDigests.contains($0) } ?? true,
                        "read outside: \(PathBytes.display(c.path))")
            }
            for (_, bytes) in r.contents { #expect(!String(decoding: bytes, as: UTF8.self).contains("OUTSIDE")) }
            if !r.issues.isEmpty { swapsSeen += 1 }
        }
        // The race really ran: some scans met the symlink and reported what they could not read.
        #expect(swapsSeen > 0)
    }

    @Test("""
        swap race against the binary: neither drift.patch nor the bundle ever holds outside content, \
        and an outside FIFO's writer stays blocked
        """)
    func swapRaceExport() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let d = f.dir
        try sh("mkdir -p workspace/worker/sub"
               + " && for i in 0 1 2 3; do echo \"v = $i\" > workspace/worker/sub/m$i.py; done",
               cwd: d.path)
        try f.bake()
        try sh("mkdir -p outside && for i in 0 1 2 3; do echo OUTSIDE-$i > outside/m$i.py; done"
               + " && for i in 0 1 2 3; do echo \"v = $i + 1\" > workspace/worker/sub/m$i.py; done"
               + " && mkfifo outside/fifo.py && touch workspace/worker/sub/fifo.py", cwd: d.path)
        // A writer blocked on the outside FIFO: it is released only if drift opens it.
        let released = d.sub("released")
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "echo leaked > '\(d.sub("outside/fifo.py"))' && touch '\(released)'"]
        try writer.run()
        defer { Self.stop(writer) }
        try sh("ln -s '\(d.sub("outside"))' workspace/worker/alt", cwd: d.path)
        try Data(Self.swapper.utf8).write(to: URL(fileURLWithPath: d.sub("swap.py")))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", d.sub("swap.py"), d.sub("workspace/worker/sub"), d.sub("workspace/worker/alt")]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { Self.stop(p) }
        _ = out.fileHandleForReading.readData(ofLength: 6)
        for i in 0..<12 {
            let o = d.sub("out\(i)")
            let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", o, "--full"])
            #expect([0, 1, 2].contains(r.code), "\(r.err)")
            for name in ["drift.patch", "report.json"] {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: o + "/" + name))) ?? Data()
                #expect(!String(decoding: bytes, as: UTF8.self).contains("OUTSIDE"), "\(name) holds outside content")
            }
        }
        let journal = try sh("git --git-dir='\(f.state)/journal.git' log -p --all 2>/dev/null || true")
        #expect(!journal.contains("OUTSIDE"))
        #expect(!FileManager.default.fileExists(atPath: released), "drift opened a FIFO outside the root")
    }
}
