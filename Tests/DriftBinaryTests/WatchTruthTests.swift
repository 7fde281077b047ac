import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 24: what `drift watch` says is what it does — every edit it can see is journaled
/// (held descriptors, reverts right after a close), a pip operation is one snapshot, and a
/// degraded mode's reason and full-scan interval are the real ones.
@Suite("drift watch tells the truth", .serialized)
struct WatchTruthTests {
    /// Every version of `path` the journal's snapshots hold, oldest first.
    static func journaled(_ f: Fixture, _ path: String) -> [String] {
        var out: [String] = []
        for c in f.snapshots().reversed() {
            let r = try? run(["git", "--git-dir=\(f.state)/journal.git", "show", "\(c):\(path)"])
            if let r, r.code == 0, out.last != r.out { out.append(r.out) }
        }
        return out
    }

    /// Snapshot commits in the journal (its base commit left out).
    static func snapshotCount(_ f: Fixture) -> Int {
        let r = try? run(["git", "--git-dir=\(f.state)/journal.git", "log", "--format=%s", "refs/heads/journal"])
        return (r?.out ?? "").split(separator: "\n").filter { $0.hasPrefix("drift snapshot") }.count
    }

    @Test("a write through a descriptor kept open is journaled after --settle of quiet, with no close")
    func heldDescriptor() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f, ["--settle", "200"])
        defer { w.kill() }
        try w.waitReady()
        // The writer appends, flushes and keeps the file open (a REPL, a long-running tool).
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        writer.arguments = ["python3", "-c", """
            import sys, time
            f = open(sys.argv[1], 'a')
            f.write('backdoor = 1\\n')
            f.flush()
            time.sleep(60)
            """, f.workspace + "/worker/util.py"]
        try writer.run()
        defer {
            if writer.isRunning { kill(writer.processIdentifier, SIGKILL) }
            writer.waitUntilExit()
        }
        try waitUntil(15, "the held write journaled") {
            Self.journaled(f, "worker/util.py").contains { $0.contains("backdoor = 1") }
        }
        #expect(writer.isRunning, "the writer still holds the file open")
        #expect(stateItems(f.state)["worker/util.py"] == "modified")
        #expect(w.terminate() == 0)
    }

    @Test("an edit closed, then reverted 100 ms later: the edit is journaled (close-write is read at once)")
    func closeThenRevert() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f, ["--settle", "200"])
        defer { w.kill() }
        try w.waitReady()
        let file = f.workspace + "/worker/main.py"
        let original = try String(contentsOfFile: file, encoding: .utf8)
        for n in 1...2 {
            let r = try run(["python3", "-c", """
                import sys, time
                p, orig, n = sys.argv[1], sys.argv[2], sys.argv[3]
                with open(p, 'w') as f:
                    f.write(orig + 'evil_%s = 1\\n' % n)
                time.sleep(0.1)
                with open(p, 'w') as f:
                    f.write(orig)
                """, file, original, "\(n)"])
            #expect(r.code == 0, "\(r.err)")
            try f.waitConverged()
        }
        let versions = Self.journaled(f, "worker/main.py")
        #expect(versions.contains { $0.contains("evil_1 = 1") }, "\(versions)")
        #expect(versions.contains { $0.contains("evil_2 = 1") }, "\(versions)")
        #expect(stateItems(f.state).isEmpty, "reverted: no drift now")
        #expect(w.terminate() == 0)
    }

    @Test("the watch limit reached by a batch: status names it, and full scans run at the interval it states")
    func limitInBatch() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let dirs = try sh("find '\(f.workspace)' -type d | wc -l").trimmingWhitespace()
        let limit = (Int(dirs) ?? 0) + 2
        let probe = try run(["unshare", "-U", "-r", "sh", "-c", "echo \(limit) > /proc/sys/user/max_inotify_watches"])
        try #require(probe.code == 0, "cannot lower the watch limit in a user namespace (unshare -U): \(probe.err)")
        let prom = f.dir.sub("drift.prom"), log = f.dir.sub("drift.jsonl")
        let w = try WatchProcess(f, ["--rescan-every", "1h", "--degraded-rescan-every", "2s", "--metrics", prom,
                                     "--log", log],
                                 wrapper: ["/usr/bin/unshare", "-U", "-r", "sh", "-c",
                                           "echo \(limit) > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\""])
        defer { w.kill() }
        try w.waitReady()
        let sdir = StateDirectory(path: f.state)
        #expect(WatchStatus.read(sdir)?.degraded == false, "\(WatchStatus.read(sdir)?.degradedReasons ?? [])")
        // New directories in one go: the batch that walks them runs out of watches.
        try sh("for i in $(seq 1 30); do mkdir -p hot/d$i && echo \"x = $i\" > hot/d$i/m.py; done", cwd: f.workspace)
        try waitUntil(15, "the batch to hit the limit") { WatchStatus.read(sdir)?.degraded == true }
        let st = try #require(WatchStatus.read(sdir))
        #expect(st.degradedReasons.contains { $0.hasPrefix("watch limit:") }, "\(st.degradedReasons)")
        #expect(st.fullScanEverySeconds == 2)
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.out.contains("DEGRADED: watch limit"), "\(status.out)")
        #expect(status.out.contains("full scan every 2s while degraded"), "\(status.out)")
        // The interval status states is the one that runs: two more full scans come within a few of them.
        let before = st.fullScans
        try waitUntil(20, "two periodic full scans at the degraded interval") {
            (WatchStatus.read(sdir)?.fullScans ?? 0) >= before + 2
        }
        // A directory without a watch: its edit is still recorded by those scans.
        try sh("echo 'y = 2' >> hot/d30/m.py", cwd: f.workspace)
        let want = try f.waitConverged(timeout: 15)
        #expect(want["hot/d30/m.py"] == "added")
        #expect(w.terminate() == 0)
    }

    @Test("pip install -U of a large package under watch: one snapshot, no false watch limit",
          .enabled(if: BigWheels.available(), "PyPI unreachable: botocore wheels could not be fetched"))
    func pipUpgrade() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let venv = f.dir.sub("venv")
        try run(["python3", "-m", "venv", "--without-pip", venv])
        let pip = ["python3", "-m", "pip", "-q", "--disable-pip-version-check", "--python", venv + "/bin/python",
                   "install", "--no-deps", "--no-index", "--find-links", BigWheels.dir]
        let first = try run(pip + ["botocore==1.34.0"], timeout: 600)
        try #require(first.code == 0, "\(first.err)")
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingWhitespace()
        try f.bake(["--site-packages", sp])
        let log = f.dir.sub("drift.jsonl")
        let w = try WatchProcess(f, ["--log", log])
        defer { w.kill() }
        try w.waitReady()
        let sdir = StateDirectory(path: f.state)
        let before = Self.snapshotCount(f)
        let watchedBefore = WatchStatus.read(sdir)?.watchedDirectories ?? 0
        #expect(watchedBefore > 400, "every botocore directory is watched (\(watchedBefore))")
        let upgrade = try run(pip + ["-U", "botocore==1.34.1"], timeout: 600)
        try #require(upgrade.code == 0, "\(upgrade.err)")
        try waitUntil(30, "the upgrade recorded") {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.contains("\"pip\":1")
        }
        // Longer than the pip quiet time: nothing more comes.
        sleep(4)
        let after = Self.snapshotCount(f)
        #expect(after == before + 1, "one snapshot for one pip install, got \(after - before)")
        let msg = try sh("git --git-dir='\(f.state)/journal.git' log -1 --format=%B refs/heads/journal")
        #expect(msg.contains("Drift-Pip: upgraded botocore"), "\(msg)")
        let st = try #require(WatchStatus.read(sdir))
        #expect(!st.degraded, "\(st.degradedReasons)")
        let warnings = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
            .filter { $0.contains("\"level\":\"warning\"") }
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(!w.stderr.contains("watch limit"), "\(w.stderr)")
        #expect(w.terminate() == 0)
    }
}

/// Two versions of a large pure-Python package (botocore: ~1,700 files in ~420 directories),
/// downloaded from PyPI once into the test wheel cache.
enum BigWheels {
    static let dir = Wheels.dir
    static let wanted = ["botocore==1.34.0", "botocore==1.34.1"]

    static func available() -> Bool {
        let have = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for w in wanted {
            let n = w.replacingOccurrences(of: "==", with: "-")
            if have.contains(where: { $0.hasPrefix(n + "-") }) { continue }
            guard let r = try? run(["python3", "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                                    "-d", dir, w], timeout: 300),
                  r.code == 0 else { return false }
        }
        return true
    }
}
