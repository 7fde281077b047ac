import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Issue 22: a secret journaled before drift knew it is purged by `drift forget`.
@Suite("Forget")
struct ForgetTests {
    static func allObjects(_ gitDir: String) throws -> String {
        try run(["git", "--git-dir=" + gitDir, "cat-file", "--batch-all-objects", "--batch"]).out
    }

    @Test("pasted before it was known, journaled and exported, then learned: forget leaves no object holding it")
    func pastedThenLearned() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let token = "tok-" + String(format: "%08x%08x", UInt32.random(in: 0...UInt32.max),
                                    UInt32.random(in: 0...UInt32.max))
        let common = ["--manifest", f.mdir, "--state", f.state]
        try sh("printf 'GREETING = \"%s\"\\n' '\(token)' >> worker/main.py && echo 'FIX = 7' >> worker/util.py",
               cwd: f.workspace)
        #expect(try drift(["scan"] + common).code == 1)
        #expect(try drift(["export", "--output", f.dir.sub("o1")] + common).code == 0)
        let journal = f.state + "/journal.git"
        #expect(try Self.allObjects(journal).contains(token), "journaled while no source knew it")
        // Learned later: a rotated key written into .env.
        try sh("printf 'API_TOKEN=%s\\n' '\(token)' > .env", cwd: f.workspace)
        let r = try drift(["forget"] + common)
        #expect(r.code == 0, "\(r.err)")
        // The pasted file's blob, and the exported patch's (the ledger commit) that carried it.
        #expect(r.out.contains("forget: removed 2 blobs holding a secret") && r.out.contains("1 snapshot rewritten"),
                "\(r.out)")
        #expect(r.out.contains("dropped 1 export(s)"), "\(r.out)")
        let objects = try Self.allObjects(journal)
        #expect(!objects.contains(token), "an object still holds it")
        #expect(!objects.contains(try SHA256Hasher.digest(Array(token.utf8)).hex))
        let fsck = try run(["git", "--git-dir=" + journal, "fsck", "--no-dangling"])
        #expect(fsck.code == 0, "\(fsck.err)")
        #expect(try sh("git --git-dir='\(journal)' log --format=%s refs/heads/journal").contains("drift snapshot"))
        // The journal still exports what is honest, and nothing else.
        let out = f.dir.sub("o2")
        let ex = try drift(["export", "--from-journal", "--output", out] + common)
        #expect(ex.code == 0, "\(ex.err)")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 7") && !patch.contains(token), "\(patch)")
        let again = try drift(["forget"] + common)
        #expect(again.out.contains("removed 0 blobs"), "\(again.out)")
    }
}
