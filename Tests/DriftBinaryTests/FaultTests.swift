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
        let out = f.dir.sub("out")
        // The first state: a bake, one hotfix, exported at t1 (state, journal and ODIR exist).
        try f.bake()
        try sh("cp -a '\(f.workspace)' '\(f.dir.sub("ws-a"))' && echo 'x = 1' >> worker/util.py", cwd: f.workspace)
        let first = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out],
                              env: ["DRIFT_TEST_NOW": "2026-02-01T10:00:00Z"])
        #expect(first.code == 0, "\(first.err)")
        // More drift. Every run below is 2 s after it, so no run's stat cache differs from
        // another's by a racily-clean entry (StatCache.racyMarginNs) and versions compare bytewise.
        try sh("echo 'X=2' > .env", cwd: f.workspace)
        let lastEdit = Date()

        // manifest create, into a fresh MDIR of a copy of the workspace.
        let mdirA = f.dir.sub("mdir-a")
        try KillLoop(label: "manifest create", dirs: [mdirA], expect: 0,
                     argv: ["manifest", "create", "--root", f.dir.sub("ws-a"), "--repo", f.upstream,
                            "--output", mdirA]).verify { r in
            #expect(r.code == 0 && (try? Manifest.parse(readWholeFile(mdirA + "/manifest.txt"), file: "m")) != nil)
        }

        let quiet = 2.1 - Date().timeIntervalSince(lastEdit)
        if quiet > 0 { usleep(useconds_t(quiet * 1e6)) }
        try KillLoop(label: "scan", dirs: [f.state], expect: 1, now: "2026-02-02T10:00:00Z",
                     argv: ["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json"]).verify { r in
            let j = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
            #expect(r.code == 1 && changes(j) == ["worker/util.py": "modified", ".env": "modified"], "\(r.err)")
        }

        // export --force over the first export: ODIR holds the old three files or the new three.
        // --cumulative: the patch below is applied on the base (a follow-up would change only .env).
        try KillLoop(label: "export", dirs: [f.state, out], expect: 0, now: "2026-02-03T10:00:00Z", wholeDir: out,
                     argv: ["export", "--manifest", f.mdir, "--state", f.state, "--output", out, "--force",
                            "--cumulative"])
            .verify { r in
                #expect(r.code == 0, "\(r.err)")
            }
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && cd '\(clone)' && git am -q '\(out)/drift.patch'")
        #expect(try sh("tail -1 worker/util.py", cwd: clone) == "x = 1\n")
        // No temp files survive the next locked run.
        let temps = try sh("ls -A '\(f.state)' | grep -c '\\.tmp\\.' || true")
        #expect(temps.trimmingCharacters(in: .whitespaces) == "0\n")
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
          .enabled(if: FaultTests.canMountTmpfs,
                   "skipped: cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)"))
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
