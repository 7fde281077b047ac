import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// `drift watch` keeps secret-content verdicts by content hash between batches
/// (`SecretVerdicts`): an unchanged drifted file is not searched again, and a verdict is never
/// used against a secret index it was not made with.
@Suite("Secret verdicts across batches", .serialized)
struct SecretVerdictTests {
    /// The latest snapshot record's entry for `path`.
    static func entry(_ sdir: String, _ path: String) -> [String: Any]? {
        let git = "git --git-dir='\(sdir)/journal.git'"
        let r = (try? sh(git + " notes --ref drift-snapshot show refs/heads/journal")) ?? ""
        guard let j = try? JSONSerialization.jsonObject(with: Data(r.utf8)) as? [String: Any],
              let entries = j["entries"] as? [[String: Any]] else { return nil }
        return entries.first { $0["path"] as? String == path }
    }

    @Test("a small data file cleared in one batch is withheld once its value becomes a secret's")
    func verdictFollowsTheIndex() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady(timeout: 120)
        let value = "zq8Xv3LmT9pW2rKd"
        try sh("printf '%s' '\(value)' > packages/models/token.bin", cwd: f.workspace)
        let token = "packages/models/token.bin"
        try waitUntil(60, "the data file journaled with its hash") {
            Self.entry(f.state, token)?["recorded"] as? String == "hash-only"
        }
        // Another batch over the same content: still recorded by hash (a remembered verdict).
        try sh("echo 'A = 1' >> worker/util.py", cwd: f.workspace)
        try waitUntil(60, "the code edit journaled") { Self.entry(f.state, "worker/util.py") != nil }
        #expect(Self.entry(f.state, token)?["sha256"] != nil)
        // The value becomes a secret's: the data file's hash must not leave any more.
        try sh("echo 'API_TOKEN=\(value)' >> .env", cwd: f.workspace)
        try waitUntil(60, "the data file withheld as secret content") {
            let e = Self.entry(f.state, token)
            return e?["recorded"] as? String == "secret-content" && e?["sha256"] == nil
        }
        #expect(w.terminate() == 0, "\(w.stderr)")
    }
}
