import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// `drift watch` with real inotify and real processes. Serialized: the overflow test lowers
/// a kernel-wide inotify limit for a moment.
@Suite("drift watch", .serialized)
struct WatchTests {
    static let original = "def helper(x):\n    return x + 1\n"

    @Test("edit then revert within 2 s: the journal holds the edited version, status lists it, a cron scan would not")
    func editThenRevert() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f, ["--log", f.dir.sub("drift.jsonl")])
        defer { w.kill() }
        try w.waitReady()
        let util = f.workspace + "/worker/util.py"
        let edited = Self.original + "HOTFIX = True  # tried on the box\n"
        let t0 = Date()
        try write(util, edited)
        try waitUntil(5, "the edit recorded") { stateItems(f.state) == ["worker/util.py": "modified"] }
        try write(util, Self.original)
        #expect(Date().timeIntervalSince(t0) < 2, "the revert came within 2 s of the edit")
        try waitUntil(5, "the revert recorded") { stateItems(f.state).isEmpty }

        // The journal kept the version that existed for a moment.
        let shown = try run(["git", "--git-dir=\(f.state)/journal.git", "show", "refs/heads/journal:worker/util.py"])
        #expect(shown.out == edited, "\(shown.err)")
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.code == 0)
        #expect(status.out.contains("no drift now") && status.out.contains("journal: 1 snapshot"), "\(status.out)")
        #expect(status.out.contains("modified worker/util.py"))
        #expect(status.out.contains("watcher       running, pid \(w.pid)"))
        // A cron-style scan now sees nothing and records nothing.
        let cron = f.dir.sub("cron-state")
        let scan = try drift(["scan", "--manifest", f.mdir, "--state", cron])
        #expect(scan.code == 0 && scan.out.contains("clean"), "\(scan.out)")
        #expect(!FileManager.default.fileExists(atPath: cron + "/journal.git/refs/heads/journal"))
        #expect(w.terminate() == 0)
        // Each batch logged the scan's own line.
        let lines = try String(contentsOfFile: f.dir.sub("drift.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.contains("\"by_change\":{\"modified\":1}") && $0.contains("\"exit_code\":1") })
        #expect(lines.last?.contains("\"clean\":true") == true)
    }

    @Test("cron's drift scan and drift export beside a running watcher are not refused")
    func cronBeside() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        for i in 0..<4 {
            try sh("echo 'v = \(i)' >> worker/util.py && echo 'n = \(i)' > worker/new\(i).py", cwd: f.workspace)
            let scan = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--wait", "30"])
            #expect(scan.code == 1, "scan beside the watcher: \(scan.code) \(scan.err)")
        }
        let out = f.dir.sub("export")
        let export = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out, "--wait", "30"])
        #expect(export.code == 0, "\(export.err)")
        let want = try f.waitConverged()
        #expect(want.count == 5)
        #expect(w.terminate() == 0)
    }

    @Test("new directory written at once, file replaced by a directory, renames across directories, editor saves")
    func treeShapes() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        // Files land in a new directory tree before any watch on it can exist.
        let ws = f.workspace
        try sh("mkdir -p hotfix/a/b && echo 1 > hotfix/a/b/deep.py"
               + " && echo 2 > hotfix/top.py && echo 3 > hotfix/a/mid.py", cwd: ws)
        // A file replaced by a directory with a file in it.
        try sh("rm config/settings.yaml && mkdir config/settings.yaml"
               + " && echo 'x: 1' > config/settings.yaml/inner.yaml", cwd: ws)
        // Renames across directories (a file and a directory).
        try sh("mv worker/main.py config/main.py && mkdir -p worker/sub"
               + " && echo s > worker/sub/s.py && mv worker/sub assets/sub", cwd: ws)
        // An editor's save: write a temp file, rename it over the original.
        try sh("printf 'def helper(x):\\n    return x + 2\\n' > worker/.util.py.swp"
               + " && mv worker/.util.py.swp worker/util.py", cwd: ws)
        let want = try f.waitConverged()
        #expect(want["hotfix/a/b/deep.py"] == "added" && want["config/settings.yaml"] == "type")
        #expect(want["worker/util.py"] == "modified" && want["assets/sub/s.py"] == "added")
        #expect(want["worker/main.py"] == "deleted" && want["config/main.py"] == "added")
        // Watched at once: a file written into the new nested directory later is an event too.
        try sh("echo 4 > hotfix/a/b/later.py", cwd: f.workspace)
        try waitUntil(5, "a later file in the new directory") { stateItems(f.state)["hotfix/a/b/later.py"] == "added" }
        let tree = try sh("git --git-dir='\(f.state)/journal.git' ls-tree -r --name-only refs/heads/journal")
        #expect(tree.contains("hotfix/a/b/later.py") && tree.contains("config/settings.yaml/inner.yaml"), "\(tree)")
        #expect(w.terminate() == 0)
    }

    @Test("a pip install while watching is recorded as pip drift",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func pipInstall() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let venv = f.dir.sub("venv")
        try run(["python3", "-m", "venv", "--without-pip", venv])
        let pip = ["python3", "-m", "pip", "-q", "--disable-pip-version-check", "--python", venv + "/bin/python",
                   "install",
                   "--no-index", "--find-links", Wheels.dir]
        #expect(try run(pip + ["six==1.16.0"]).code == 0)
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try f.bake(["--site-packages", sp, "--requirements", f.workspace + "/requirements.instance.txt"])
        let log = f.dir.sub("drift.jsonl")
        let w = try WatchProcess(f, ["--log", log])
        defer { w.kill() }
        try w.waitReady()
        #expect(try run(pip + ["toml==0.10.2"]).code == 0)
        try waitUntil(10, "the install recorded") {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("\"pip\":1")
        }
        let msg = try sh("git --git-dir='\(f.state)/journal.git' log -1 --format=%B refs/heads/journal")
        #expect(msg.contains("Drift-Pip: added toml"), "\(msg)")
        #expect(w.terminate() == 0)
    }

    @Test("queue overflow: a full rescan catches everything, a warning in the log, drift_watch_degraded 1")
    func overflow() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let knob = "/proc/sys/fs/inotify/max_queued_events"
        let saved = try? String(contentsOfFile: knob, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // The queue size is read when an inotify instance is created: lower it for this
        // watcher's start only, and restore it on every path out.
        var lowered = false
        // Not lowered any more: the knob is machine-wide, and other tests' inotify users (the
        // containment swap race) created meanwhile got a 32-event queue. The burst path overflows
        // the default queue instead.
        if saved != nil, ProcessInfo.processInfo.environment["DRIFT_TEST_LOWER_INOTIFY_QUEUE"] == "1",
           (try? sh("echo 32 > \(knob)")) != nil {
            lowered = true
        }
        let small = lowered
        defer {
            if lowered, let saved { _ = try? sh("echo \(saved) > \(knob)") }
        }
        let log = f.dir.sub("drift.jsonl"), prom = f.dir.sub("drift.prom")
        let w = try WatchProcess(f, ["--log", log, "--metrics", prom])
        defer { w.kill() }
        try w.waitReady()
        if lowered, let saved {
            try sh("echo \(saved) > \(knob)")
            lowered = false
        }
        // Stopped, the watcher cannot drain its queue: the burst overflows it for sure
        // (32 events lowered; else the default 16,384 needs a bigger burst).
        let files = small ? 200 : 12_000
        kill(w.pid, SIGSTOP)
        // Into a directory already watched: each file is two events.
        try sh("i=0; while [ $i -lt \(files) ]; do echo $i > worker/f$i.py; i=$((i+1)); done; echo x >> worker/util.py",
               cwd: f.workspace)
        kill(w.pid, SIGCONT)
        let want = try f.waitConverged(timeout: 30)
        #expect(want.count == files + 1)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("\"level\":\"warning\"") && text.contains("\"reason\":\"overflow\""), "\(text)")
        try waitUntil(5, "the metrics file") {
            ((try? String(contentsOfFile: prom, encoding: .utf8)) ?? "").contains("drift_watch_degraded 1")
        }
        #expect((WatchStatus.read(StateDirectory(path: f.state))?.overflows ?? 0) >= 1)
        #expect(w.terminate() == 0)
    }

    @Test("too few watches: degraded mode keeps correct by periodic full scans, says so in status and metrics")
    func watchLimit() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        // A user namespace of its own with a watch limit of 2: the kernel-wide limit is not touched.
        let probe = try run(["unshare", "-U", "-r", "sh", "-c", "echo 2 > /proc/sys/user/max_inotify_watches"])
        try #require(probe.code == 0, "cannot lower the watch limit in a user namespace (unshare -U): \(probe.err)")
        let prom = f.dir.sub("drift.prom")
        let w = try WatchProcess(f, ["--rescan-every", "2s", "--metrics", prom],
                                 wrapper: ["/usr/bin/unshare", "-U", "-r", "sh", "-c",
                                           "echo 2 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\""])
        defer { w.kill() }
        try w.waitReady()
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.out.contains("DEGRADED: watch limit"), "\(status.out)")
        #expect(status.out.contains("full scan every 2s"), "\(status.out)")
        #expect(try String(contentsOfFile: prom, encoding: .utf8).contains("drift_watch_degraded 1"))
        // worker/ comes last in the walk: it has no watch, yet its edit is recorded.
        try sh("echo 'late = 1' >> worker/util.py && echo n > config/new.yaml", cwd: f.workspace)
        let want = try f.waitConverged(timeout: 10)
        #expect(want == ["worker/util.py": "modified", "config/new.yaml": "added"])
        #expect(w.terminate() == 0)
    }

    @Test("SIGTERM during a batch records it and exits 0; SIGKILL at random points loses nothing recorded")
    func signals() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        // A batch with work in it (a few hundred files to hash and journal), TERM while it runs.
        try sh("mkdir -p worker/many && i=0; while [ $i -lt 400 ]; do echo $i > worker/many/m$i.py; i=$((i+1)); done",
               cwd: f.workspace)
        usleep(250_000)
        #expect(w.terminate() == 0, "\(w.stderr)")
        #expect(stateItems(f.state).count == 400, "the batch in hand was finished")
        #expect(WatchStatus.read(StateDirectory(path: f.state))?.phase == "stopped")

        var rng = SystemRandomNumberGenerator()
        for round in 0..<3 {
            let k = try WatchProcess(f, label: "kill\(round)")
            defer { k.kill() }
            try k.waitReady()
            let before = Set(f.snapshots())
            for i in 0..<6 {
                try sh("echo 'r\(round) = \(i)' >> worker/util.py && echo \(i) > worker/k\(round)-\(i).py",
                       cwd: f.workspace)
                usleep(UInt32.random(in: 20_000...150_000, using: &rng))
            }
            kill(k.pid, SIGKILL)
            k.kill()
            #expect(Set(f.snapshots()).isSuperset(of: before), "snapshots recorded before the kill are kept")
            let fsck = try run(["git", "--git-dir=\(f.state)/journal.git", "fsck", "--no-dangling"])
            #expect(fsck.code == 0, "\(fsck.err)")
            let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
            #expect(status.out.contains("is gone without stopping"), "\(status.out)")
        }
        // The next start records the rest with its first scan.
        let last = try WatchProcess(f, label: "last")
        defer { last.kill() }
        try last.waitReady()
        let want = try f.waitConverged()
        #expect(want.count == 400 + 1 + 18)
        #expect(last.terminate() == 0)
    }

    @Test("bad flags: one drift: line, exit 2, nothing written; a second watcher is refused with 75")
    func badInput() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let before = try sh("find . | sort", cwd: f.workspace)
        for args in [["--settle", "abc"], ["--settle", "-5"], ["--settle", "2m"], ["--rescan-every", "0"],
                     ["--rescan-every", "99999999999999999999h"], ["--rescan-every", "9223372036854775807d"],
                     ["--rescan-every", "1h30"], ["--rescan-every", "5y"],
                     ["--log", f.workspace + "/worker/drift.jsonl"], ["--metrics", f.workspace + "/m.prom"]] {
            let r = try drift(["watch", "--manifest", f.mdir, "--state", f.state] + args, timeout: 10)
            #expect(r.code == 2, "\(args): \(r.code) \(r.err)")
            #expect(r.err.hasPrefix("drift: ") && r.err.split(separator: "\n").count == 1, "\(args): \(r.err)")
        }
        let inside = try drift(["watch", "--manifest", f.mdir, "--state", f.workspace + "/state"], timeout: 10)
        #expect(inside.code == 2 && inside.err.contains("inside the scanned root"), "\(inside.err)")
        #expect(try sh("find . | sort", cwd: f.workspace) == before)
        #expect(!FileManager.default.fileExists(atPath: f.state))

        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        let second = try drift(["watch", "--manifest", f.mdir, "--state", f.state], timeout: 10)
        #expect(second.code == 75 && second.err.contains("another drift watch (pid \(w.pid)"), "\(second.err)")
        #expect(w.terminate() == 0)
    }

    @Test("durations: units, sums, bare numbers, checked arithmetic")
    func durations() throws {
        func ms(_ s: String) throws -> Int64 {
            try DurationText.milliseconds(s, flag: "--rescan-every", bareUnitMs: 1000, min: 1000, max: 366 * 86_400_000)
        }
        #expect(try ms("90s") == 90_000 && ms("30m") == 1_800_000 && ms("1h") == 3_600_000 && ms("1h30m") == 5_400_000)
        #expect(try ms("45") == 45_000 && ms("1500ms") == 1500 && ms("2d") == 172_800_000)
        for bad in ["", "h", "1x", "1h30", "999ms", "367d", "9223372036854775807s", "1.5h", " 1h"] {
            #expect(throws: DriftError.self, "\(bad)") { try ms(bad) }
        }
        #expect(DurationText.render(3_600_000) == "1h" && DurationText.render(90_000) == "90s")
        #expect(DurationText.render(250) == "250ms")
    }
}
