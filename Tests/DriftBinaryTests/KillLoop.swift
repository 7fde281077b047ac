import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Runs one command with `DRIFT_TEST_KILL_AT=1, 2, …` (SIGKILL at the Nth atomic write, after
/// the temp file is complete and before its rename), each time from the same starting files,
/// until a run completes. Then checks:
/// - every N before that was killed by SIGKILL, and N > 1 (a run never killed proves nothing);
/// - after the kill at N every file parses and is exactly what writes 1…N-1 made of it: the
///   old bytes, or the last of those writes (each write's bytes are its complete temp file,
///   seen at its own kill point); the completed run's files are the last write of each;
/// - git directories (ref by ref, and `git fsck`) and `wholeDir` (all files at once) are the
///   old or the new version;
/// - after each kill the next plain run succeeds and leaves what an unkilled run leaves (only
///   `state.json`'s scan counter may be ahead: the killed run's scan was counted).
/// Runs at a fixed `DRIFT_TEST_NOW`, so two runs that do the same work write the same bytes.
/// The directories end as the completed run left them.
struct KillLoop {
    var label: String
    var dirs: [String]
    var expect: Int32
    var now = "2026-02-01T00:00:00Z"
    var wholeDir: String?
    var argv: [String]

    /// The files under `dirs` by path (git directories as one key per ref), and the complete
    /// temp files of an interrupted atomic write, by the path they were to replace.
    struct Snapshot: Equatable {
        var files: [String: [UInt8]] = [:]
        var temps: [String: [UInt8]] = [:]
        var gitKeys: Set<String> = []
    }

    init(label: String, dirs: [String], expect: Int32, now: String = "2026-02-01T00:00:00Z", wholeDir: String? = nil,
         argv: [String]) {
        self.label = label
        self.dirs = dirs
        self.expect = expect
        self.now = now
        self.wholeDir = wholeDir
        self.argv = argv
    }

    /// - Parameter recovered: checks the output of the plain run after each kill.
    func verify(recovered: (Run) -> Void) throws {
        let saved = dirs.map { $0 + ".before" }
        for (d, s) in zip(dirs, saved) where FileManager.default.fileExists(atPath: d) { try sh("cp -a '\(d)' '\(s)'") }
        defer { for s in saved { try? FileManager.default.removeItem(atPath: s) } }
        func reset() throws {
            for (d, s) in zip(dirs, saved) {
                try sh("rm -rf '\(d)'")
                if FileManager.default.fileExists(atPath: s) { try sh("cp -a '\(s)' '\(d)'") }
            }
        }
        let old = try snapshot()
        #expect(old.temps.isEmpty, "\(label): temp files before the first run: \(old.temps.keys)")
        var expected = old.files
        var killedSnapshots: [(Int, Snapshot)] = []
        var kills: [Int] = []
        var afterKill: [(Int, Snapshot)] = []
        var n = 1
        var completed: Snapshot?
        while n <= 40 {
            try reset()
            let r = try drift(argv, env: ["DRIFT_TEST_KILL_AT": "\(n)", "DRIFT_TEST_NOW": now])
            guard r.code == SIGKILL else {
                #expect(r.code == expect, "\(label): the run armed at write \(n) exited \(r.code): \(r.err)")
                completed = try snapshot()
                break
            }
            let s = try snapshot(fsck: true)
            checkParses(s, after: n)
            #expect(s.temps.count <= 1, "\(label): killed at write \(n): temp files \(s.temps.keys.sorted())")
            kills.append(n)
            for key in Set(expected.keys).union(s.files.keys).sorted() where !s.gitKeys.contains(key) && !inWhole(key) {
                if Self.isLog(key) {
                    // An append-only log: the whole records so far extend what it held (or a
                    // new base replaced it); a torn tail is never read.
                    let grew = Self.extends(s.files[key], expected[key])
                    #expect(grew, "\(label): killed at write \(n): \(key) lost records")
                    expected[key] = s.files[key].map(Self.wholeRecords)
                    continue
                }
                let same = s.files[key] == expected[key]
                #expect(same, "\(label): killed at write \(n): \(key) is not the old bytes or the last completed write")
            }
            killedSnapshots.append((n, s))
            for (k, v) in s.temps { expected[k] = v }
            let next = try drift(argv, env: ["DRIFT_TEST_NOW": now])
            recovered(next)
            afterKill.append((n, try snapshot()))
            n += 1
        }
        #expect(n > 1 && kills == Array(1..<n), "\(label): killed at \(kills), completed at \(n)")
        guard let new = completed else {
            Issue.record("\(label): still killed at write 40")
            return
        }
        #expect(new.files != old.files, "\(label): the run changed nothing")
        for key in Set(expected.keys).union(new.files.keys).sorted() where !new.gitKeys.contains(key) && !inWhole(key) {
            if Self.isLog(key) {
                #expect(Self.extends(new.files[key], expected[key]), "\(label): \(key) lost records")
                continue
            }
            let same = new.files[key] == expected[key]
            #expect(same, "\(label): \(key) changed other than by an atomic write")
        }
        for (k, s) in killedSnapshots {
            for key in Set(old.files.keys).union(new.files.keys).union(s.files.keys).sorted()
            where s.gitKeys.contains(key) || new.gitKeys.contains(key) || inWhole(key) {
                let either = s.files[key] == old.files[key] || s.files[key] == new.files[key]
                #expect(either, "\(label): killed at write \(k): \(key) is neither the old nor the new version")
            }
            if let w = wholeDir {
                let keys = Set(old.files.keys).union(new.files.keys).filter { $0.hasPrefix(w + "/") }
                let allOld = keys.allSatisfy { s.files[$0] == old.files[$0] }
                let allNew = keys.allSatisfy { s.files[$0] == new.files[$0] }
                let all = allOld || allNew
                #expect(all, "\(label): killed at write \(k): \(w) mixes old and new files")
            }
        }
        for (k, s) in afterKill {
            let differ = Set(s.files.keys).union(new.files.keys)
                .filter { Self.comparable(s.files[$0], $0) != Self.comparable(new.files[$0], $0) }.sorted()
            #expect(differ.isEmpty, "\(label): the run after the kill at write \(k) left \(differ) unlike a clean run")
            // Every command removes a killed run's temp files on its next run (manifest create
            // too, since it sweeps `NAME.tmp.PID` in MDIR): no known gap is left to excuse.
            let left = s.temps.keys.sorted()
            #expect(left == [], "\(label): temp files left after the run after the kill at write \(k)")
        }
    }

    /// A base-and-log state file's log (`statcache.log`, `state.log`, …): appended, not renamed.
    static func isLog(_ key: String) -> Bool { key.hasSuffix(".log") && !key.contains(".tmp.") }

    /// The log's header and whole frames (what a reader folds), without a torn tail.
    static func wholeRecords(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 40 else { return [] }
        return Array(bytes.prefix(AppendLog.frames(bytes, from: 40).end))
    }

    /// `now` is `before` with whole records appended, or the log was removed (a new base
    /// took its records) or started afresh for a new base.
    static func extends(_ now: [UInt8]?, _ before: [UInt8]?) -> Bool {
        guard let now else { return true }
        let (a, b) = (wholeRecords(now), wholeRecords(before ?? []))
        return a.starts(with: b) || !a.prefix(40).elementsEqual(b.prefix(40))
    }

    private func inWhole(_ key: String) -> Bool { wholeDir.map { key.hasPrefix($0 + "/") } ?? false }

    /// `state.json` without its scan counter (a killed scan that saved its state was counted).
    static func comparable(_ bytes: [UInt8]?, _ key: String) -> [UInt8]? {
        guard let bytes, key.hasSuffix("/state.json"),
              var st = try? JSONDecoder().decode(DriftState.self, from: Data(bytes)) else { return bytes }
        st.scans = nil
        return (try? JSONCoding.encode(st)) ?? bytes
    }

    func snapshot(fsck: Bool = false) throws -> Snapshot {
        var out = Snapshot()
        for d in dirs { try add(d, into: &out, fsck: fsck) }
        return out
    }

    private func add(_ dir: String, into out: inout Snapshot, fsck: Bool) throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name != "lock" {
            let p = dir + "/" + name
            var st = stat()
            guard lstat(p, &st) == 0 else { continue }
            if let r = name.range(of: ".tmp.") {
                out.temps[dir + "/" + name[..<r.lowerBound]] = try readWholeFile(p, followSymlinks: false)
            } else if name.hasSuffix(".git") {
                if fsck {
                    let r = try run(["git", "--git-dir=\(p)", "fsck", "--no-dangling"])
                    #expect(r.code == 0, "\(label): \(p): \(r.err)")
                }
                let refs = try sh("git --git-dir='\(p)' for-each-ref --format='%(refname) %(objectname)'")
                for line in refs.split(separator: "\n") {
                    let key = p + " " + (line.split(separator: " ").first.map(String.init) ?? "")
                    out.files[key] = Array(line.utf8)
                    out.gitKeys.insert(key)
                }
            } else if (st.st_mode & S_IFMT) == S_IFDIR {
                try add(p, into: &out, fsck: fsck)
            } else {
                out.files[p] = try readWholeFile(p, followSymlinks: false)
            }
        }
    }

    /// Every file drift keeps parses, whichever version it is.
    private func checkParses(_ s: Snapshot, after k: Int) {
        let temps = s.temps.map { ($0.key + " (temp)", $0.value) }
        for (path, bytes) in s.files.merging(temps, uniquingKeysWith: { a, _ in a }) {
            let name = (path as NSString).lastPathComponent.replacingOccurrences(of: " (temp)", with: "")
            let torn = "\(label): killed at write \(k): \(path) torn"
            switch name {
            case "state.json":
                #expect((try? JSONDecoder().decode(DriftState.self, from: Data(bytes))) != nil, "\(torn)")
            case "statcache", "pipcache", "pyccache": #expect(StatCache.parse(bytes) != nil, "\(torn)")
            case "statcache.log", "pipcache.log", "pyccache.log":
                let header = bytes.count < 40 || bytes.starts(with: StatCache.logMagic)
                #expect(header, "\(path): not a stat cache log")
            case "manifest.txt": #expect((try? Manifest.parse(bytes, file: path)) != nil, "\(torn)")
            case "report.json": #expect((try? JSONSerialization.jsonObject(with: Data(bytes))) != nil, "\(torn)")
            case "drift.patch": #expect(bytes.starts(with: Array("From ".utf8)), "\(torn)")
            case "drift.bundle": #expect(bytes.starts(with: Array("# v2 git bundle\n".utf8)), "\(torn)")
            default: break
            }
        }
    }
}
