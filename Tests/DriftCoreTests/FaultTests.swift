import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

@Suite("Faults")
struct FaultTests {
    /// Every file drift keeps must parse (or be absent) after a crash at any write.
    static func checkIntact(_ f: Fixture, out: String? = nil) throws {
        if let st = try? readWholeFile(f.state + "/state.json") {
            #expect((try? JSONDecoder().decode(DriftState.self, from: Data(st))) != nil, "state.json torn")
        }
        if let c = try? readWholeFile(f.state + "/statcache") {
            #expect(StatCache.parse(c) != nil, "statcache torn")
        }
        if let m = try? readWholeFile(f.mdir + "/manifest.txt") {
            #expect((try? Manifest.parse(m, file: "manifest.txt")) != nil, "manifest torn")
        }
        if let out, let names = try? FileManager.default.contentsOfDirectory(atPath: out) {
            #expect(Set(names).isSubset(of: ["drift.patch", "drift.bundle", "report.json"]), "\(names)")
            #expect(names.isEmpty || names.count == 3, "export directory half-written: \(names)")
        }
        if FileManager.default.fileExists(atPath: f.state + "/journal.git") {
            let fsck = try run(["git", "--git-dir=\(f.state)/journal.git", "fsck", "--no-dangling"])
            #expect(fsck.code == 0, "journal: \(fsck.err)")
        }
    }

    @Test("SIGKILL at every write of manifest create, scan and export: old or new, never torn; the next run is right")
    func killAtEveryWrite() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        // manifest create: crash at each of its writes, then bake for real.
        for n in 1...4 {
            let r = try drift(["manifest", "create", "--root", f.workspace, "--repo", f.upstream, "--output", f.mdir],
                              env: ["DRIFT_TEST_KILL_AT": "\(n)"])
            #expect(r.code == 0 || r.code == 9 || r.code == 137 || r.code == -9 || r.code > 128 || r.code == 15, "n=\(n) \(r.code)")
            try Self.checkIntact(f)
        }
        try f.bake()
        try sh("echo 'x = 1' >> worker/util.py && echo 'X=2' > .env", cwd: f.workspace)
        for n in 1...3 {
            _ = try drift(["scan", "--manifest", f.mdir, "--state", f.state], env: ["DRIFT_TEST_KILL_AT": "\(n)"])
            try Self.checkIntact(f)
            let (r, j) = try f.scan()
            #expect(r.code == 1 && changes(j) == ["worker/util.py": "modified", ".env": "modified"], "after crash at \(n): \(r.err)")
        }
        let out = f.dir.sub("out")
        for n in 1...6 {
            _ = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out, "--force"], env: ["DRIFT_TEST_KILL_AT": "\(n)"])
            try Self.checkIntact(f, out: out)
        }
        let e = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out, "--force"])
        #expect(e.code == 0, "\(e.err)")
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && cd '\(clone)' && git am -q '\(out)/drift.patch'")
        #expect(try sh("tail -1 worker/util.py", cwd: clone) == "x = 1\n")
        // No temp files survive the next locked run.
        #expect(try sh("ls '\(f.state)' | grep -c '\\.tmp\\.' || true").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    /// Whether a small tmpfs can be mounted here (root with CAP_SYS_ADMIN); else the test is skipped.
    static let canMountTmpfs: Bool = {
        guard getuid() == 0, let d = try? TempDir("probe") else { return false }
        defer { d.remove() }
        guard (try? run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d.path]))?.code == 0 else { return false }
        _ = try? run(["umount", d.path])
        return true
    }()

    @Test("a full disk under the state dir: a clear error and the previous state intact",
          .enabled(if: FaultTests.canMountTmpfs, "skipped: cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)"))
    func diskFull() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let small = f.dir.sub("tiny")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        // Room for the first scan's state and journal (snapshot, its record), not for the second's.
        try sh("mount -t tmpfs -o size=128k tmpfs '\(small)'")
        defer { _ = try? run(["umount", small]) }
        let state = small + "/state"
        try sh("echo x >> worker/util.py", cwd: f.workspace)
        let first = try drift(["scan", "--manifest", f.mdir, "--state", state])
        #expect(first.code == 1, "\(first.err)")
        let before = try readWholeFile(state + "/state.json")
        // Fill the disk, then make drift that needs more space.
        _ = try? sh("dd if=/dev/zero of='\(small)/filler' bs=1k count=1000 2>/dev/null")
        try sh("head -c 200000 /dev/urandom | base64 > worker/big_hotfix.py", cwd: f.workspace)
        let full = try drift(["scan", "--manifest", f.mdir, "--state", state])
        #expect(full.code == 2, "\(full.out)")
        #expect(full.err.split(separator: "\n").count == 1 && full.err.contains("No space left"), "\(full.err)")
        #expect(try readWholeFile(state + "/state.json") == before)
    }
}
