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

    /// Every file under `dir`, raw (loose objects are zlib-compressed: `allObjects` reads those).
    static func rawBytes(_ dir: String) -> [UInt8] {
        var out: [UInt8] = []
        let e = FileManager.default.enumerator(atPath: dir)
        while let name = e?.nextObject() as? String {
            out += (try? readWholeFile(dir + "/" + name)) ?? []
        }
        return out
    }

    @Test("drift watch running: pasted before any .env, journaled, learned from a new .env, forget: no object keeps it")
    func watchPastedThenLearned() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("rm .env", cwd: f.workspace)
        try f.bake()
        let w = try WatchProcess(f)
        defer { w.kill() }
        try w.waitReady()
        let key = "k3y" + String(format: "%08x%08x%08x", UInt32.random(in: 0...UInt32.max),
                                 UInt32.random(in: 0...UInt32.max), UInt32.random(in: 0...UInt32.max))
        let digest = try SHA256Hasher.digest(Array(key.utf8)).hex
        let ws = f.workspace
        // Pasted into code while no source knows it: the watcher journals it (twice, edited).
        try sh("printf 'CLIENT = \"%s\"\\n' '\(key)' > worker/hot.py", cwd: ws)
        try f.waitConverged()
        try sh("printf 'RETRIES = 3\\n' >> worker/hot.py && echo 'FIX = 8' >> worker/util.py", cwd: ws)
        try f.waitConverged()
        let journal = f.state + "/journal.git"
        #expect(try Self.allObjects(journal).contains(key), "journaled while no source knew it")
        let before = f.snapshots().count
        // Learned: the key is written into a new .env; the watcher's next snapshot withholds it.
        try sh("printf 'SERVICE_API_KEY=%s\\n' '\(key)' > .env", cwd: ws)
        let seen = try f.waitConverged()
        #expect(seen["worker/hot.py"] != nil && seen[".env"] == "added", "\(seen)")
        try waitUntil(15, "a snapshot after .env appeared") { f.snapshots().count > before }
        // forget while the watcher still runs (it waits for the state lock).
        let r = try drift(["forget", "--manifest", f.mdir, "--state", f.state, "--wait", "30"])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("forget: removed ") && !r.out.contains("removed 0 blobs"), "\(r.out)")
        // The watcher carries on in the rewritten journal.
        try sh("echo 'FIX = 9' >> worker/util.py", cwd: ws)
        try f.waitConverged()
        let after = f.snapshots().count
        try sh("echo 'FIX = 10' >> worker/util.py", cwd: ws)
        try f.waitConverged()
        try waitUntil(15, "a snapshot in the rewritten journal") { f.snapshots().count > after }
        #expect(w.terminate() == 0, "\(w.stderr)")
        let objects = try Self.allObjects(journal)
        #expect(!objects.isEmpty)
        #expect(!objects.contains(key), "an object of the journal still holds the key")
        #expect(!objects.contains(digest), "an object of the journal holds the key's SHA-256")
        let raw = Self.rawBytes(f.state)
        #expect(!contains(raw, Array(key.utf8)) && !contains(raw, Array(digest.utf8)), "a state file holds it")
        let fsck = try run(["git", "--git-dir=" + journal, "fsck", "--strict", "--no-dangling"])
        #expect(fsck.code == 0, "\(fsck.out)\(fsck.err)")
        let log = try sh("git --git-dir='\(journal)' log --format=%B refs/heads/journal")
        #expect(log.contains("secret content") || log.contains("secret-content"), "\(log)")
        let tip = try sh("git --git-dir='\(journal)' show refs/heads/journal:worker/util.py")
        #expect(tip.contains("FIX = 10"), "\(tip)")
    }
}
