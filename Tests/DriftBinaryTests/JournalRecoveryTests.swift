import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// A journal drift cannot read is set aside under `previous/` and a new one started: the scan
/// reports drift with its normal exit code, never an exit-2 loop (incident 13, F11), and says so
/// once (stderr, `--log`, `drift status` until an export). The watcher says its recoveries too (F4).
@Suite("a damaged journal is recovered", .serialized)
struct JournalRecoveryTests {
    static let t1 = "2026-03-01T10:00:00Z"
    static let t2 = "2026-03-02T10:00:00Z"
    static let t3 = "2026-03-03T10:00:00Z"

    /// The damage kinds of incident 13: a 5-byte ref write, emptied loose objects, a truncated
    /// pack, a garbage HEAD; and a garbage `shallow` (every open refused the journal).
    static func damage(_ kind: String, _ state: String) throws {
        let j = state + "/journal.git"
        switch kind {
        case "ref": try sh("echo zzzz > '\(j)/refs/heads/journal'")
        case "loose": try sh("find '\(j)/objects' -path '*/objects/??/*' -type f -exec truncate -s 0 {} +")
        case "pack":
            try sh("git --git-dir='\(j)' repack -a -d -q && git --git-dir='\(j)' prune-packed "
                   + "&& git --git-dir='\(j)' pack-refs --all && for p in '\(j)'/objects/pack/*.pack; do "
                   + "s=$(stat -c %s \"$p\"); chmod u+w \"$p\"; truncate -s $((s / 2)) \"$p\"; done")
        case "shallow": try sh("echo zzzz > '\(j)/shallow'")
        default: try sh("echo garbage > '\(j)/HEAD'")
        }
    }

    static func scan(_ f: Fixture, at now: String, _ extra: [String] = []) throws -> Run {
        try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json"] + extra,
                  env: ["DRIFT_TEST_NOW": now])
    }

    static func setAside(_ state: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: state + "/previous")) ?? []
        return names.filter { $0.hasPrefix("journal-damaged-") }
    }

    @Test("scan: a damaged journal is set aside, drift reported (exit 1), first sightings kept, said once",
          arguments: ["ref", "loose", "pack", "head", "shallow"])
    func scan(kind: String) throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 2' >> worker/util.py && echo 'Y=1' >> .env", cwd: f.workspace)
        let r1 = try Self.scan(f, at: Self.t1)
        #expect(r1.code == 1, "\(r1.err)")
        try Self.damage(kind, f.state)
        // The backdoor written after the damage is reported.
        try sh("echo 'import os' > worker/backdoor.py", cwd: f.workspace)
        let log = f.dir.sub("scan.log")
        let r2 = try Self.scan(f, at: Self.t2, ["--log", log])
        #expect(r2.code == 1, "\(r2.err)")
        let j = (try JSONSerialization.jsonObject(with: Data(r2.out.utf8))) as? [String: Any] ?? [:]
        #expect(changes(j) == ["worker/util.py": "modified", ".env": "modified", "worker/backdoor.py": "added"])
        let seen = Dictionary(uniqueKeysWithValues: files(j).map { ($0["path"] as? String ?? "", $0["first_seen"]) })
        #expect(seen["worker/util.py"] as? String == Self.t1 && seen[".env"] as? String == Self.t1, "\(seen)")
        #expect(seen["worker/backdoor.py"] as? String == Self.t2)
        let aside = Self.setAside(f.state)
        #expect(aside.count == 1, "\(aside)")
        let warnings = r2.err.split(separator: "\n").filter { $0.hasPrefix("drift: warning:") }
        #expect(warnings.count == 1 && warnings.first?.contains("journal.git cannot be read") == true
                && warnings.first?.contains("previous/journal-damaged-") == true, "\(r2.err)")
        let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(logText.contains("\"reason\":\"journal_set_aside\"") && logText.contains("journal-damaged-"),
                "\(logText)")
        // Evidence kept as it was: the damaged journal moved whole.
        #expect(FileManager.default.fileExists(atPath: f.state + "/previous/\(aside.first ?? "?")/objects"))
        // A new journal holds this drift; nothing of state.json was lost (it was read, not rebuilt).
        let ref = try run(["git", "--git-dir=\(f.state)/journal.git", "rev-parse", "refs/heads/journal"])
        #expect(ref.code == 0, "\(ref.err)")
        #expect(!FileManager.default.fileExists(atPath: f.state + "/state.json.damaged"))
        let items = stateItems(f.state)
        #expect(items["worker/util.py"] == "modified" && items[".env"] == "modified", "\(items)")
        // Settled: the next run reads the new journal without a word.
        let r3 = try Self.scan(f, at: Self.t3)
        #expect(r3.code == 1 && r3.err.isEmpty, "\(r3.err)")
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state])
        #expect(status.code == 0 && status.out.contains("journal       DAMAGED"), "\(status.out)\(status.err)")
        #expect(!status.out.contains("an earlier base's state"), "\(status.out)")
    }

    @Test("scan: state.json garbled and the journal damaged: exit 1, both said, the damaged journal kept")
    func bothDamaged() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 2' >> worker/util.py", cwd: f.workspace)
        #expect(try Self.scan(f, at: Self.t1).code == 1)
        try "{\"schema\": ".write(toFile: f.state + "/state.json", atomically: false, encoding: .utf8)
        try Self.damage("ref", f.state)
        let r = try Self.scan(f, at: Self.t2)
        #expect(r.code == 1, "\(r.err)")
        let j = (try JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        #expect(changes(j) == ["worker/util.py": "modified"])
        #expect(r.err.contains("state.json.damaged") && r.err.contains("journal-damaged-"), "\(r.err)")
        #expect(Self.setAside(f.state).count == 1)
        #expect(try Self.scan(f, at: Self.t3).err.isEmpty)
    }

    @Test("export: its scan sets a damaged journal aside and says so; the export is on the base; status clears")
    func export() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 2' >> worker/util.py", cwd: f.workspace)
        let e1 = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", f.dir.sub("e1")],
                           env: ["DRIFT_TEST_NOW": Self.t1])
        #expect(e1.code == 0, "\(e1.err)")
        try Self.damage("ref", f.state)
        try sh("echo 'import os' > worker/backdoor.py", cwd: f.workspace)
        let e2 = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", f.dir.sub("e2")],
                           env: ["DRIFT_TEST_NOW": Self.t2])
        #expect(e2.code == 0, "\(e2.err)")
        #expect(e2.err.contains("drift: warning:") && e2.err.contains("journal-damaged-"), "\(e2.err)")
        #expect(Self.setAside(f.state).count == 1)
        let status = try drift(["status", "--manifest", f.mdir, "--state", f.state], env: ["DRIFT_TEST_NOW": Self.t3])
        #expect(status.code == 0 && !status.out.contains("DAMAGED"), "\(status.out)\(status.err)")
    }

    @Test("watch: a damaged journal is set aside, the batch records the new drift, the warning in stderr and --log",
          arguments: ["ref", "loose"])
    func watch(kind: String) throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 2' >> worker/util.py", cwd: f.workspace)
        let log = f.dir.sub("watch.log")
        let w = try WatchProcess(f, ["--log", log])
        defer { w.kill() }
        try w.waitReady()
        _ = try f.waitConverged()
        try Self.damage(kind, f.state)
        try sh("echo 'import os' > worker/backdoor.py", cwd: f.workspace)
        let got = try f.waitConverged(timeout: 30)
        #expect(got["worker/backdoor.py"] == "added" && got["worker/util.py"] == "modified", "\(got)")
        try waitUntil(30, "the watcher's warning (stderr: \(w.stderr))") { w.stderr.contains("journal-damaged-") }
        try waitUntil(30, "a new journal") { FileManager.default.fileExists(
            atPath: f.state + "/journal.git/refs/heads/journal") }
        #expect(!w.stderr.contains("batch failed"), "\(w.stderr)")
        let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(logText.contains("journal_set_aside"), "\(logText)")
        #expect(Self.setAside(f.state).count == 1)
        #expect(w.terminate() == 0)
    }

    @Test("watch: a garbled state.json is rebuilt and the watcher says so (F4)")
    func watchStateRecovered() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 2' >> worker/util.py", cwd: f.workspace)
        let log = f.dir.sub("watch.log")
        let w = try WatchProcess(f, ["--log", log])
        defer { w.kill() }
        try w.waitReady()
        _ = try f.waitConverged()
        try "{\"schema\": ".write(toFile: f.state + "/state.json", atomically: false, encoding: .utf8)
        try sh("echo 'import os' > worker/backdoor.py", cwd: f.workspace)
        try waitUntil(30, "the watcher's warning (stderr: \(w.stderr))") { w.stderr.contains("state.json.damaged") }
        let logText = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(logText.contains("state_recovered"), "\(logText)")
        #expect(w.terminate() == 0)
    }
}
