import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 26: a cron `drift scan` beside a healthy `drift watch` asks the watcher (git's
/// fsmonitor) instead of walking; a stopped, degraded, restarted or overflowed watcher means
/// a normal scan, and the report says which it was.
@Suite("cron scan asks the watcher", .serialized)
struct WatchQueryTests {
    /// A cron scan's JSON report and exit code.
    static func cronScan(_ f: Fixture, _ extra: [String] = []) throws -> (code: Int32, report: [String: Any]) {
        let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json"] + extra)
        #expect(r.code == 0 || r.code == 1, "\(r.err)")
        let j = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        return (r.code, j)
    }

    static func watcher(_ j: [String: Any]) -> (used: Bool?, reason: String?, token: String?) {
        let w = j["watcher"] as? [String: Any]
        return (w?["used"] as? Bool, w?["reason"] as? String, w?["token"] as? String)
    }

    @Test("healthy watcher: the first scan learns its token, later scans use its answer and still catch an edit")
    func healthy() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        // No watcher ever: no `watcher` field at all.
        let (_, before) = try Self.cronScan(f)
        #expect(before["watcher"] == nil)
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        let (_, first) = try Self.cronScan(f)
        #expect(Self.watcher(first).used == false && Self.watcher(first).reason == "restarted", "\(first)")
        let log = f.dir.sub("cron.jsonl")
        let (code, second) = try Self.cronScan(f, ["--log", log])
        #expect(code == 0)
        #expect(Self.watcher(second).used == true, "\(second["watcher"] ?? "none")")
        #expect(Self.watcher(second).token == Self.watcher(first).token)
        let line = try String(contentsOfFile: log, encoding: .utf8)
        #expect(line.contains("\"watcher\":{") && line.contains("\"used\":true"), "\(line)")
        // An edit the watcher has not recorded yet (no wait at all): the query rescans it first.
        try sh("echo 'BACKDOOR = 1' >> worker/util.py && rm -f README.md && echo x > worker/new.py",
               cwd: f.workspace)
        let (code2, third) = try Self.cronScan(f)
        #expect(Self.watcher(third).used == true, "\(third["watcher"] ?? "none")")
        #expect(code2 == 1)
        let walked = try Self.cronScan(f, ["--no-watcher"]).report
        #expect(walked["watcher"] == nil)
        #expect(changes(third) == changes(walked), "watcher \(changes(third)) vs walk \(changes(walked))")
        #expect(changes(third)["worker/util.py"] == "modified", "\(changes(third))")
        #expect(w.terminate() == 0, "\(w.stderr)")
    }

    @Test("stopped or killed watcher: a normal scan, which sees what changed while nobody watched")
    func stopped() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        _ = try Self.cronScan(f)
        #expect(Self.watcher(try Self.cronScan(f).report).used == true)
        #expect(w.terminate() == 0)
        try sh("echo 'AFTER_STOP = 1' >> worker/util.py", cwd: f.workspace)
        let (code, j) = try Self.cronScan(f)
        #expect(Self.watcher(j).used == false && Self.watcher(j).reason == "stopped", "\(j["watcher"] ?? "none")")
        #expect(code == 1 && changes(j)["worker/util.py"] == "modified")

        // Killed between an event and its record: watch.json still says watching.
        let w2 = try WatchProcess(f, label: "watch2")
        defer { w2.kill() }
        try w2.waitReady()
        _ = try Self.cronScan(f)
        #expect(Self.watcher(try Self.cronScan(f).report).used == true)
        kill(w2.pid, SIGSTOP)
        try sh("echo 'WHILE_STOPPED = 1' >> worker/util.py", cwd: f.workspace)
        w2.kill()
        #expect(WatchStatus.read(StateDirectory(path: f.state))?.phase == "watching")
        let (_, k) = try Self.cronScan(f)
        #expect(Self.watcher(k).used == false && Self.watcher(k).reason == "stopped", "\(k["watcher"] ?? "none")")
        #expect(try String(contentsOfFile: f.workspace + "/worker/util.py", encoding: .utf8).contains("WHILE_STOPPED"))
        let util = files(k).first { $0["path"] as? String == "worker/util.py" }
        let size = (try FileManager.default.attributesOfItem(atPath: f.workspace + "/worker/util.py")[.size] as? Int)
        #expect((util?["new_size"] as? Int) == size, "\(util ?? [:])")
    }

    @Test("a hung watcher (stopped by SIGSTOP) does not answer: the scan walks for itself")
    func hung() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        _ = try Self.cronScan(f)
        kill(w.pid, SIGSTOP)
        try sh("echo 'HUNG = 1' >> worker/util.py", cwd: f.workspace)
        let (code, j) = try Self.cronScan(f)
        kill(w.pid, SIGCONT)
        #expect(Self.watcher(j).used == false && Self.watcher(j).reason == "no-answer", "\(j["watcher"] ?? "none")")
        #expect(code == 1 && changes(j)["worker/util.py"] == "modified")
    }

    @Test("restarted watcher: its token changed, so the next scan walks once, then uses the new one")
    func restarted() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        _ = try Self.cronScan(f)
        let used = try Self.cronScan(f).report
        #expect(Self.watcher(used).used == true)
        #expect(w.terminate() == 0)
        let w2 = try WatchProcess(f, label: "watch2")
        defer { w2.kill() }
        try w2.waitReady()
        let (_, j) = try Self.cronScan(f)
        #expect(Self.watcher(j).used == false && Self.watcher(j).reason == "restarted", "\(j["watcher"] ?? "none")")
        #expect(Self.watcher(j).token != nil && Self.watcher(j).token != Self.watcher(used).token)
        let again = try Self.cronScan(f).report
        #expect(Self.watcher(again).used == true && Self.watcher(again).token == Self.watcher(j).token)
        #expect(w2.terminate() == 0)
    }

    @Test("degraded watcher (watch limit): every scan walks for itself")
    func degraded() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let probe = try run(["unshare", "-U", "-r", "sh", "-c", "echo 2 > /proc/sys/user/max_inotify_watches"])
        try #require(probe.code == 0, "cannot lower the watch limit in a user namespace (unshare -U): \(probe.err)")
        let w = try WatchProcess(f, ["--rescan-every", "1h"],
                                 wrapper: ["/usr/bin/unshare", "-U", "-r", "sh", "-c",
                                           "echo 2 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\""])
        defer { w.kill() }
        try w.waitReady()
        #expect(WatchStatus.read(StateDirectory(path: f.state))?.degraded == true)
        for _ in 0..<2 {
            try sh("echo 'UNWATCHED = 1' >> worker/util.py", cwd: f.workspace)
            let (code, j) = try Self.cronScan(f)
            #expect(Self.watcher(j).used == false && Self.watcher(j).reason == "degraded", "\(j["watcher"] ?? "none")")
            #expect(code == 1 && changes(j)["worker/util.py"] == "modified")
        }
    }

    @Test("events lost to a queue overflow: scans walk for themselves until the watcher's next periodic full scan")
    func overflow() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        _ = try Self.cronScan(f)
        #expect(Self.watcher(try Self.cronScan(f).report).used == true)
        kill(w.pid, SIGSTOP)
        // Past the default queue of 16,384 events while nobody reads it.
        try sh("i=0; while [ $i -lt 12000 ]; do echo $i > worker/f$i.py; i=$((i+1)); done; echo x >> worker/util.py",
               cwd: f.workspace)
        kill(w.pid, SIGCONT)
        let (code, j) = try Self.cronScan(f)
        // The watcher may still be in the full scan the overflow started: it answers after it, or not in time.
        #expect(Self.watcher(j).used == false && ["overflow", "no-answer"].contains(Self.watcher(j).reason ?? ""),
                "\(j["watcher"] ?? "none")")
        #expect(code == 1 && changes(j).count == 12_001, "\(changes(j).count)")
        try f.waitConverged(timeout: 60)
        let (_, later) = try Self.cronScan(f)
        #expect(Self.watcher(later).used == false && Self.watcher(later).reason == "overflow")
        #expect(w.terminate() == 0)
    }
    @Test("the re-verification slice still runs: an mmap write (no inotify event) is found within reverify_every scans")
    func sliceStillRuns() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let policy = f.dir.sub("policy.yaml")
        try write(policy, String(decoding: PackageResources.default_yaml, as: UTF8.self) + "reverify_every: 25\n")
        try sh("find . -exec touch -h -d '-1 hour' {} +", cwd: f.workspace)
        try f.bake(["--policy", policy])
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        _ = try Self.cronScan(f)
        // Through a shared mapping after the descriptor is closed: the close is the last event,
        // and it comes before the bytes change.
        try sh("""
            python3 -c "
            import mmap, time
            f = open('worker/util.py', 'r+b'); m = mmap.mmap(f.fileno(), 0); f.close()
            time.sleep(1); i = m.find(b'x + 1'); m[i + 2:i + 3] = b'-'; m.flush(); m.close()"
            """, cwd: f.workspace)
        var foundAt: Int?
        for n in 1...26 {
            let (code, j) = try Self.cronScan(f)
            #expect(Self.watcher(j).used == true, "\(j["watcher"] ?? "none")")
            if code == 1 {
                #expect(changes(j) == ["worker/util.py": "modified"])
                foundAt = n
                break
            }
        }
        #expect(foundAt != nil, "an mmap write stayed hidden from the watcher's answers for more than 25 scans")
        #expect(w.terminate() == 0)
    }
    /// state.json `scans`: the rotation's position (each scan, asking or walking, advances it).
    static func scans(_ f: Fixture) throws -> Int {
        let j = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.state + "/state.json")))
        return ((j as? [String: Any])?["scans"] as? Int) ?? -1
    }

    /// Each asking scan also advances the rotation, its slot share re-hashed ahead in the watcher's idle time.
    @Test("a forged stat-cache record the watcher loaded is found within reverify_every asking scans")
    func forgedRecordVerifiedAhead() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let policy = f.dir.sub("policy.yaml")
        try write(policy, String(decoding: PackageResources.default_yaml, as: UTF8.self) + "reverify_every: 25\n")
        // Enough files that every slot share holds some (each query's share is re-hashed ahead).
        try sh("mkdir -p data && for i in $(seq 100); do echo $i > data/f$i.txt; done", cwd: f.workspace)
        try sh("find . -exec touch -h -d '-1 hour' {} +", cwd: f.workspace)
        try f.bake(["--policy", policy])
        usleep(2_100_000)  // past the stat cache's racy-clean margin
        #expect(try f.scan().0.code == 0)
        // The attacker: a same-size edit, then its record rewritten with the new stat and the
        // old digest, before the watcher starts (its first full scan loads that cache).
        guard try ReverifyTests.forgeUtilRecord(f) else { return }
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        var foundAt: Int?
        var ahead = 0
        var scans = try Self.scans(f)
        for n in 1...25 {
            usleep(300_000)  // a cron cadence: the watcher's idle time between two scans
            let (code, j) = try Self.cronScan(f)
            let use = j["watcher"] as? [String: Any] ?? [:]
            // The first scan learns the token (it walks, and re-hashes its own slice).
            if n > 1 { #expect(Self.watcher(j).used == true, "\(use)") }
            ahead += use["reverified_ahead"] as? Int ?? 0
            let now = try Self.scans(f)
            #expect(now == scans + 1, "scan \(n) did not advance the rotation (\(scans) -> \(now))")
            scans = now
            if code == 1 {
                #expect(changes(j) == ["worker/util.py": "modified"], "\(j)")
                foundAt = n
                break
            }
        }
        #expect(foundAt != nil, "a forged cache record hid the change from the watcher for more than 25 scans")
        // Once found, it stays found (the answer recorded the true digest); the next queries'
        // slot shares were re-hashed in the idle time before them.
        for _ in 0..<2 {
            usleep(300_000)
            let (code, j) = try Self.cronScan(f)
            #expect(code == 1 && Self.watcher(j).used == true)
            ahead += (j["watcher"] as? [String: Any])?["reverified_ahead"] as? Int ?? 0
        }
        #expect(ahead > 0, "no slice was re-hashed ahead of its query")
        #expect(w.terminate() == 0, "\(w.stderr)")
    }

    @Test("the watcher's slice index picks exactly the paths ReverifySlice re-hashes (slot, arc, wrapped arc, all)")
    func sliceIndex() {
        let paths = (0..<5_000).map { Array("src/pkg\($0 % 37)/mod\($0).py".utf8) }.sorted(by: bytesLess)
        let entry = StatCache.Entry(size: 1, mtimeNs: 2, ctimeNs: 3, inode: 4, device: 5,
                                    digest: Digest(words: 1, 2, 3, 4))
        let records = StatCache.Records(paths.map { StatCache.Record(path: $0, entry: entry) })
        let index = SliceIndex(records, every: 25)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let cases: [ReverifySlice] = [
            ReverifySlice(every: 25, scan: 7),
            ReverifySlice(every: 25, scan: 8, last: t0, now: t0.addingTimeInterval(600)),
            ReverifySlice(every: 25, scan: 9, last: t0.addingTimeInterval(-9_000), now: t0.addingTimeInterval(9_000)),
            ReverifySlice(every: 25, scan: 10, last: t0, now: t0.addingTimeInterval(7 * 3600)),
        ]
        // The arc alone, the slot share having been re-hashed ahead (`AheadVerification.remainder`).
        var arcOnly = ReverifySlice(every: 25, scan: 8, last: t0, now: t0.addingTimeInterval(600))
        arcOnly.bucket = false
        var wrappedArcOnly = cases[2]
        wrappedArcOnly.bucket = false
        for slice in cases + [arcOnly, wrappedArcOnly] {
            let want = Set(paths.filter(slice.contains))
            let got = index.paths(in: slice, of: records) ?? []
            #expect(Set(got) == want && got.count == want.count, "\(slice)")
        }
        #expect(index.paths(in: ReverifySlice(every: 288, scan: 1), of: records) == nil)
        // Without its slot share: the share's paths outside the arc are not picked.
        let shareOnly = paths.filter { ReverifySlice(every: 25, scan: 8).contains($0) && !arcOnly.contains($0) }
        #expect(!shareOnly.isEmpty && Set(index.paths(in: arcOnly, of: records) ?? []).isDisjoint(with: shareOnly))
    }
}
