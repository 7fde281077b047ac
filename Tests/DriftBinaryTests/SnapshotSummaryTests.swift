import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// A directory of many data files is one entry of the snapshot (`drift.snapshot/2`): one
/// record entry, one message line, one Drift-Id input, read back by export, the gate, `drift
/// log` and state recovery (issue 28, a million files).
@Suite("Summarised directories in snapshots")
struct SnapshotSummaryTests {
    static let count = 1_200

    /// The latest snapshot's record, parsed.
    static func record(_ f: Fixture) throws -> [String: Any] {
        let json = try sh("git --git-dir='\(f.state)/journal.git' notes --ref drift-snapshot show refs/heads/journal")
        return (try JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
    }

    static func entries(_ r: [String: Any]) -> [[String: Any]] { r["entries"] as? [[String: Any]] ?? [] }

    @Test("1,200 data files in one directory round-trip as one summary: scan → journal → export → gate")
    func roundTrip() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'a = 1' >> worker/util.py", cwd: f.workspace)
        // Code alone: a record without summaries is drift.snapshot/1, as older drift wrote it.
        #expect(try f.scan().0.code == 1)
        #expect(try Self.record(f)["schema"] as? String == "drift.snapshot/1")
        // 1,200 small data files, and a secret (config, *.pem) among them.
        let dir = f.workspace + "/packages/models/x"
        try sh("mkdir -p '\(dir)' && cd '\(dir)' && python3 -c '"
               + "for i in range(\(Self.count)): open(\"s%05d.bin\" % i, \"w\").write(\"w%d\" % i)'"
               + " && echo 'SECRET-MARKER' > '\(dir)/creds.pem'")
        let (r, report) = try f.scan()
        #expect(r.code == 1, "\(r.err)")
        // The scan report still names every path.
        #expect(files(report).count == Self.count + 2)
        let rec = try Self.record(f)
        #expect(rec["schema"] as? String == "drift.snapshot/2")
        let es = Self.entries(rec)
        #expect(es.count == 3, "\(es)")
        let summary = try #require(es.first { $0["recorded"] as? String == "summary" })
        #expect(summary["path"] as? String == "packages/models/x/")
        #expect(summary["count"] as? Int == Self.count && summary["class"] as? String == "data")
        let bytes = (0..<Self.count).reduce(0) { $0 + "w\($1)".utf8.count }
        #expect(summary["bytes"] as? Int == bytes)
        // The digest, from the files themselves (sha256sum is the oracle).
        let oracle = try sh("cd '\(dir)' && for n in $(ls s*.bin | LC_ALL=C sort); do "
                            + "printf '%s 100644 %s\\n' \"$n\" \"$(sha256sum < \"$n\" | cut -d' ' -f1)\"; "
                            + "done | sha256sum | cut -d' ' -f1").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(summary["sha256"] as? String == oracle)
        // The secret is never folded: withheld by name, on its own.
        let pem = es.first { $0["path"] as? String == "packages/models/x/creds.pem" }
        #expect(pem?["recorded"] as? String == "secret" && pem?["sha256"] == nil, "\(es)")
        let inputs = rec["drift_id_inputs"] as? [String] ?? []
        #expect(inputs.contains("summary added packages/models/x/ data \(Self.count) \(oracle)"), "\(inputs)")
        #expect(inputs.count == 2, "\(inputs)")
        // The message: one line for the directory, one per other path.
        let msg = try sh("git --git-dir='\(f.state)/journal.git' log -1 --format=%B refs/heads/journal")
        #expect(msg.components(separatedBy: "Drift-Entry: ").count - 1 == 3, "\(msg.prefix(2000))")
        #expect(msg.contains(" packages/models/x/ summary:\(Self.count):\(bytes):\(oracle)\n"))
        #expect(msg.hasPrefix("drift snapshot on"))
        // drift log reads it.
        let log = try drift(["log", "--manifest", f.mdir, "--state", f.state])
        #expect(log.code == 0 && log.out.contains("(summary of \(Self.count) files)"), "\(log.out) \(log.err)")
        #expect(log.out.contains("\(Self.count + 2) paths"), "\(log.out)")

        // Export: report.json carries the summary entry and the inputs; the patch only the code.
        let ledger = f.dir.sub("ledger")
        let ex = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", ledger + "/host-a/1"])
        #expect(ex.code == 0, "\(ex.err)")
        let rj = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath:
            ledger + "/host-a/1/report.json")))) as? [String: Any] ?? [:]
        let rfiles = rj["files"] as? [[String: Any]] ?? []
        #expect(rfiles.count == 3 && rfiles.contains { $0["count"] as? Int == Self.count }, "\(rfiles)")
        #expect(rj["drift_id_inputs"] as? [String] == inputs)
        let patch = try String(contentsOfFile: ledger + "/host-a/1/drift.patch", encoding: .utf8)
        #expect(patch.contains("worker/util.py") && !patch.contains("s00001.bin") && !patch.contains("MARKER"))
        // The gate recomputes the id from those inputs: the entry is valid, unreconciled (1),
        // and reconciled once the patch is applied upstream (0).
        let g1 = try drift(["gate", "--repo", f.upstream, "--ledger", ledger])
        #expect(g1.code == 1 && g1.out.contains("MISSING") && !g1.out.contains("INVALID"), "\(g1.out) \(g1.err)")
        let up2 = f.dir.sub("up2")
        try sh("git clone -q '\(f.upstream)' '\(up2)' && cd '\(up2)' && git am -q '\(ledger)/host-a/1/drift.patch'")
        let g2 = try drift(["gate", "--repo", up2, "--ledger", ledger])
        #expect(g2.code == 0, "\(g2.out) \(g2.err)")

        // State recovery from the summarised record keeps the directory as one summary item.
        try "{\"schema\": \"drift.state/1\", \"commit\": [".write(toFile: f.state + "/state.json", atomically: false,
                                                                   encoding: .utf8)
        let again = try f.scan()
        #expect(again.0.code == 1 && again.0.err.contains("rebuilt the state"), "\(again.0.err)")
        let st = try JSONDecoder().decode(DriftState.self,
                                          from: Data(contentsOf: URL(fileURLWithPath: f.state + "/state.json")))
        #expect(st.items.contains { $0.path == "packages/models/x/" && $0.count == Self.count }, "\(st.items)")
    }

    @Test("one file more in a summarised directory is another drift state: a new snapshot, a new id")
    func summaryChanges() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let dir = f.workspace + "/packages/models/y"
        try sh("mkdir -p '\(dir)' && cd '\(dir)' && python3 -c '"
               + "for i in range(\(Self.count)): open(\"t%05d.bin\" % i, \"w\").close()'")
        #expect(try f.scan().0.code == 1)
        let first = try Self.record(f)
        #expect(try f.scan().0.code == 1)
        #expect(try Self.record(f)["drift_id"] as? String == first["drift_id"] as? String)
        // Same count, one file's content changed: the digest (and so the id) moves.
        try sh("echo x > '\(dir)/t00007.bin'")
        #expect(try f.scan().0.code == 1)
        let second = try Self.record(f)
        #expect(second["drift_id"] as? String != first["drift_id"] as? String)
        let s2 = Self.entries(second).first { $0["recorded"] as? String == "summary" }
        #expect(s2?["count"] as? Int == Self.count && s2?["bytes"] as? Int == 2)
        #expect(s2?["sha256"] as? String != Self.entries(first).first?["sha256"] as? String)
    }

    @Test("a code edit beside 100,100 data files under watch is journaled after them, as one more snapshot")
    func watchBesideMany() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        // 100 directories of 1,001 empty files: 100 summaries, each just over the threshold.
        try sh("mkdir -p packages/models/big && cd packages/models/big && python3 -c '"
               + "import os\nfor d in range(100):\n os.mkdir(\"p%03d\" % d)\n"
               + " for i in range(1001): open(\"p%03d/f%04d\" % (d, i), \"w\").close()'", cwd: f.workspace)
        let w = try WatchProcess(f)
        defer { w.kill() }
        // Generous bounds: this checks order, not speed (a debug build on a loaded box).
        try w.waitReady(timeout: 900)
        try waitUntil(600, "the start-up snapshot") { !f.snapshots().isEmpty }
        let before = f.snapshots()
        let startRecord = try Self.record(f)
        let startSummaries = Self.entries(startRecord).filter { $0["recorded"] as? String == "summary" }
        #expect(startSummaries.count == 100 && Self.entries(startRecord).count == 100, "\(startRecord)")
        try sh("echo 'HOTFIX = 1' >> worker/util.py", cwd: f.workspace)
        try waitUntil(600, "the edit journaled") {
            Self.entries(try Self.record(f)).contains { $0["path"] as? String == "worker/util.py" }
        }
        let after = f.snapshots()
        // One more snapshot on top of the start-up one: nothing lost, nothing reordered.
        #expect(after.count > before.count && Array(after.suffix(before.count)) == before, "\(after) \(before)")
        let rec = try Self.record(f)
        let es = Self.entries(rec)
        #expect(es.count == 101 && es.filter { $0["recorded"] as? String == "summary" }.count == 100)
        #expect(es.first { $0["path"] as? String == "worker/util.py" }?["recorded"] as? String == "content")
        #expect(w.terminate(timeout: 300) == 0, "\(w.stderr)")
    }

    @Test("21 directories of exactly 1,000 data files (21,000 in all, over the entry cap) are 21 summaries")
    func foldByDepth() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'a = 1' >> worker/util.py", cwd: f.workspace)
        try sh("mkdir -p packages/models/z && cd packages/models/z && python3 -c '"
               + "import os\nfor d in range(21):\n os.mkdir(\"p%02d\" % d)\n"
               + " for i in range(1000): open(\"p%02d/f%04d\" % (d, i), \"w\").close()'", cwd: f.workspace)
        #expect(try f.scan().0.code == 1)
        // None is over the per-directory threshold, but 21,001 entries are over the cap
        // (20,000): folded by directory, deepest level first, until under it.
        let es = Self.entries(try Self.record(f))
        #expect(es.count == 22, "\(es.count) entries")
        let sums = es.filter { $0["recorded"] as? String == "summary" }
        #expect(sums.count == 21 && sums.allSatisfy { $0["count"] as? Int == 1000 })
        let s = sums.first { $0["path"] as? String == "packages/models/z/p00/" }
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        let oracle = try sh("python3 -c '"
                            + "import hashlib\nh = hashlib.sha256()\nfor i in range(1000):\n"
                            + " h.update(b\"f%04d 100644 \(empty)\\n\" % i)\nprint(h.hexdigest())'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(s?["sha256"] as? String == oracle)
    }
}
