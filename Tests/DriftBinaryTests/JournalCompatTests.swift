import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// A journal written by drift before snapshot records (commit fc4002c, made by
/// Tests/Fixtures/make-old-journal.sh): three snapshots with odd names, config, data, a
/// secret, code carrying the secret's value, a file over the size limit, a deletion; and
/// what that drift exported and listed from it.
@Suite("Journal compatibility")
struct JournalCompatTests {
    static let now = ["DRIFT_TEST_NOW": "2026-11-30T00:00:00Z"]

    struct Old {
        let dir: TempDir
        var mdir: String { dir.sub("mdir") }
        var state: String { dir.sub("state") }
        var ws: String { dir.sub("ws") }
        var journal: String { dir.sub("state/journal.git") }
        func expected(_ name: String) throws -> [UInt8] { try readWholeFile(dir.sub("expected/" + name)) }

        init() throws {
            dir = try TempDir()
            let tar = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/journal-fc4002c.tar.gz").path
            try sh("tar -xzf '\(tar)' -C '\(dir.path)'")
        }
    }

    /// An export's report.json without the fields the gate reads (and `drop`), as sorted JSON.
    /// The old drift wrote `drift.journal-export/1`; today's one schema, `drift.export/1`, has
    /// every field it had, with the same values, and adds each hash-only file's `sha256` and
    /// `reason` (the snapshot record's entry form): those and `schema` are left out here.
    static func reportWithoutGateFields(_ bytes: [UInt8], drop: [String] = []) throws -> String {
        var obj = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        for k in ["withheld", "drift_id_inputs", "schema"] + drop { obj[k] = nil }
        obj["files"] = (obj["files"] as? [[String: Any]])?.map { f in
            f.filter { $0.key != "sha256" && $0.key != "reason" }
        }
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The `journal:` part of `drift status` (the rest names this host and ages).
    static func journalSection(_ status: String) -> String {
        guard let r = status.range(of: "\njournal: ") else { return "" }
        return String(status[r.lowerBound...])
    }

    @Test("an old journal exports and lists byte for byte as the drift that wrote it did")
    func oldJournalReadsBack() throws {
        let old = try Old()
        defer { old.dir.remove() }
        let out = old.dir.sub("out")
        let r = try drift(["export", "--manifest", old.mdir, "--state", old.state, "--from-journal", "--output", out],
                          env: Self.now)
        #expect(r.code == 0, "\(r.err)")
        for name in ["drift.patch", "drift.bundle"] {
            #expect(try readWholeFile(out + "/" + name) == old.expected("export/" + name), "\(name) differs")
        }
        // report.json is the old one plus the fields the gate reads (withheld, drift_id_inputs).
        let bytes = try readWholeFile(out + "/report.json")
        let obj = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        #expect(obj?["schema"] as? String == "drift.export/1")
        let now = try Self.reportWithoutGateFields(bytes)
        #expect(now == (try Self.reportWithoutGateFields(old.expected("export/report.json"))))
        let status = try drift(["status", "--manifest", old.mdir, "--state", old.state], env: Self.now)
        let want = Self.journalSection(String(decoding: try old.expected("status.txt"), as: UTF8.self))
        #expect(!want.isEmpty)
        #expect(Self.journalSection(status.out) == want, "\(status.out)")
        // Reading writes no record into an old journal.
        let notes = try run(["git", "--git-dir=\(old.journal)", "notes", "--ref", "drift-snapshot", "list"])
        #expect(notes.out.isEmpty)
    }

    @Test("a journal fingerprint of an older drift (version 2) is only different: one more record, no error")
    func olderFingerprintIsDifferent() throws {
        let old = try Old()
        defer { old.dir.remove() }
        let args = ["scan", "--manifest", old.mdir, "--state", old.state, "--root", old.ws]
        let stateFile = old.state + "/state.json"
        func state() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stateFile)))
                as? [String: Any])
        }
        let first = try drift(args, env: Self.now)
        #expect(first.code == 1, "\(first.err)")
        let fp = try #require(try state()["journal_fingerprint"] as? String)
        let tip = try GitRepository(path: old.journal).reference(Journal.ref)
        // What a version-2 state holds: a digest version 3 never gives for this drift.
        var st = try state()
        let v2 = try SHA256Hasher.digest(Array("journal-fp/2\n".utf8)).hex
        #expect(v2 != fp)
        st["journal_fingerprint"] = v2
        try JSONSerialization.data(withJSONObject: st).write(to: URL(fileURLWithPath: stateFile))
        let second = try drift(args, env: Self.now)
        #expect(second.code == first.code, "\(second.err)")
        #expect(second.err == first.err)
        #expect(try state()["journal_fingerprint"] as? String == fp)
        // The same drift: recorded again, into the snapshot that holds it (no new commit).
        #expect(try GitRepository(path: old.journal).reference(Journal.ref) == tip)
    }

    @Test("the same drift state on an old journal gives the very message the old drift wrote, plus a record")
    func messageUnchanged() throws {
        let old = try Old()
        defer { old.dir.remove() }
        let repo = try GitRepository(path: old.journal)
        let tip = try #require(try repo.reference(Journal.ref))
        let previous = try #require(try repo.parents(of: tip).first)
        let oldMessage = try repo.message(of: tip)
        // Back to the second snapshot, and forget that the third was recorded: the next scan
        // records the workspace's drift (the third state) again, with today's drift.
        try sh("git --git-dir='\(old.journal)' update-ref refs/heads/journal \(previous.hex)")
        let stateFile = old.state + "/state.json"
        var st = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stateFile)))
            as? [String: Any])
        st["journal_fingerprint"] = nil
        try JSONSerialization.data(withJSONObject: st).write(to: URL(fileURLWithPath: stateFile))
        let r = try drift(["scan", "--manifest", old.mdir, "--state", old.state, "--root", old.ws],
                          env: ["DRIFT_TEST_NOW": "2026-11-29T12:00:00Z"])
        #expect(r.code == 1, "\(r.err)")
        let again = try GitRepository(path: old.journal)
        let newTip = try #require(try again.reference(Journal.ref))
        #expect(try again.parents(of: newTip) == [previous])
        // The fixture was made on a host named "vm"; this one may have another name.
        let host = SystemInfo.hostName()
        let want = oldMessage.replacingOccurrences(of: "on vm:", with: "on \(host):")
            .replacingOccurrences(of: "Host: vm\n", with: "Host: \(host)\n")
        #expect(try again.message(of: newTip) == want)
        #expect(try again.treeOf(commit: newTip) == repo.treeOf(commit: tip))
        // The record says what the message says.
        let note = try #require(try again.note(Journal.notesRef, on: newTip))
        let recorded = try SnapshotRecord.decode(note, context: "t")
        let parsed = try SnapshotInfo.parse(want, context: "t")
        #expect(recorded.entries == parsed.entries)
        #expect((recorded.id, recorded.base, recorded.time) == (parsed.id, parsed.base, parsed.time))
        #expect(recorded.host == host)
        // Exported from the record, it is what the old drift exported from the old message
        // (past the mbox's `From <commit id>` line, which names the host through the commit).
        let out = old.dir.sub("out")
        let ex = try drift(["export", "--manifest", old.mdir, "--state", old.state, "--from-journal", "--output", out],
                           env: Self.now)
        #expect(ex.code == 0, "\(ex.err)")
        func onThisHost(_ b: [UInt8]) -> [Substring] {
            var t = String(decoding: b, as: UTF8.self)
            let names = [("drift@vm>", "drift@\(host)>"), ("from vm ", "from \(host) "), ("on vm ", "on \(host) "),
                         ("Drift-Host: vm\n", "Drift-Host: \(host)\n"),
                         ("\"host\" : \"vm\"", "\"host\" : \"\(host)\"")]
            for (a, b) in names {
                t = t.replacingOccurrences(of: a, with: b)
            }
            return t.split(separator: "\n", omittingEmptySubsequences: false)
        }
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
            == onThisHost(try old.expected("export/drift.patch")).dropFirst())
        let report = try Self.reportWithoutGateFields(readWholeFile(out + "/report.json"), drop: ["snapshot"])
        let was = onThisHost(try old.expected("export/report.json")).joined(separator: "\n")
        let wasReport = try Self.reportWithoutGateFields(Array(was.utf8), drop: ["snapshot"])
        #expect(report == wasReport)
        // Status lists old and new snapshots alike.
        let status = try drift(["status", "--manifest", old.mdir, "--state", old.state], env: Self.now)
        #expect(status.out.contains("journal: 3 snapshots"), "\(status.out)")
        #expect(status.out.contains("2026-11-29T12:00:00Z  c85f7f7e51cd551bc623  7 paths: modified .env,"))
    }
}
