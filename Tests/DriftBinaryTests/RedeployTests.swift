import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Incident 11 F13: a redeploy with the state volume kept (README runbook step 5). The image
/// is baked from upstream commit A, then from a descendant B; the state dir stays. The first
/// run on B moves A's state whole to `SDIR/previous/` and goes on clean; the old state's
/// exports still push, and `git bundle verify` / `git am` accept what was pushed.
@Suite("redeploy with the state volume kept")
struct RedeployTests {
    /// A's image with a hotfix exported but not pushed, then the image rebaked from B (which
    /// carries the hotfix upstream) and the workspace recreated from B.
    struct Redeploy {
        let f: Fixture
        let idA: String
        let commitA: String
        let commitB: String
        var remote: String { f.dir.sub("remote.git") }

        init() throws {
            let f = try Fixture()
            self.f = f
            let up = f.upstream
            let remote = f.dir.sub("remote.git")
            // History before the image: the base has ancestors the instance never has.
            try sh("echo '# notes' > NOTES.md && git add -A && git commit -qm notes", cwd: up)
            try sh("rm -rf '\(f.workspace)' && mkdir -p '\(f.workspace)' && "
                   + "git -C '\(up)' archive HEAD | tar -x -C '\(f.workspace)'")
            try f.bake()
            commitA = try sh("git rev-parse HEAD", cwd: up).trimmingCharacters(in: .whitespacesAndNewlines)
            try sh("git clone -q --bare '\(up)' '\(remote)'")
            // The incident: a hotfix, journaled and exported, never pushed.
            try sh("sed -i \"s/print('worker')/print('worker fixed')/\" worker/main.py", cwd: f.workspace)
            let (s1, _) = try f.scan()
            #expect(s1.code == 1, "\(s1.err)")
            let e = try drift(["export", "--output", f.dir.sub("out-a"), "--manifest", f.mdir, "--state", f.state])
            #expect(e.code == 0, "\(e.err)")
            idA = try #require(e.out.split(separator: " ").dropFirst(2).first.map(String.init), "\(e.out)")
            // Upstream takes the fix and moves on; the canary image is B; the instance is recreated.
            try sh("sed -i \"s/print('worker')/print('worker fixed')/\" worker/main.py"
                   + " && echo 'def more():\n    return 2' > worker/more.py && git add -A"
                   + " && git commit -qm 'worker: the hotfix, upstream'", cwd: up)
            commitB = try sh("git rev-parse HEAD", cwd: up).trimmingCharacters(in: .whitespacesAndNewlines)
            try sh("rm -rf '\(f.workspace)' '\(f.mdir)' && mkdir -p '\(f.workspace)' && "
                   + "git -C '\(up)' archive HEAD | tar -x -C '\(f.workspace)'")
            try f.bake()
        }

        /// The archives under `SDIR/previous/`.
        func archives() throws -> [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: f.state + "/previous")) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { f.state + "/previous/" + $0 }
        }
    }

    @Test("the first scan on the new base archives the old state, exits 0 clean; its export pushes and applies")
    func scanArchivesAndOldExportPushes() throws {
        let r = try Redeploy()
        defer { r.f.dir.remove() }
        let f = r.f
        // Before: every verb exited 2 ("state dir belongs to base commit …").
        let (scan, report) = try f.scan()
        #expect(scan.code == 0, "\(scan.err)")
        #expect(files(report).isEmpty)
        #expect(scan.err.contains("moved it whole to"), "\(scan.err)")
        #expect(scan.err.contains("; 1 export not pushed yet: drift push REMOTE --state "), "\(scan.err)")
        #expect(scan.err.split(separator: "\n").count == 1, "said once: \(scan.err)")
        let archives = try r.archives()
        try #require(archives.count == 1, "\(archives)")
        let archive = archives[0]
        #expect(URL(fileURLWithPath: archive).lastPathComponent.hasPrefix(r.commitA + "-"))
        // Nothing of the old state is lost: state.json (first sightings, the export), journal, ledger.
        let old = try String(contentsOfFile: archive + "/state.json", encoding: .utf8)
        #expect(old.contains(r.commitA) && old.contains(r.idA) && old.contains("worker/main.py"))
        let marker = try String(contentsOfFile: archive + "/archived.json", encoding: .utf8)
        #expect(marker.contains(r.commitA) && marker.contains(r.commitB))
        let refs = try sh("git --git-dir='\(archive)/journal.git' for-each-ref --format='%(refname)'")
        #expect(refs.contains("refs/drift-ledger/\(r.idA)") && refs.contains("refs/drift-exports/\(r.idA)"))
        // The new state is the new base's, and a second scan says nothing more.
        let now = try String(contentsOfFile: f.state + "/state.json", encoding: .utf8)
        #expect(now.contains(r.commitB) && !now.contains(r.commitA))
        let (again, _) = try f.scan()
        #expect(again.code == 0 && again.err.isEmpty, "\(again.err)")
        #expect(try r.archives().count == 1)

        // The old state's unpushed export leaves the new box: push reads the archive's own base.
        let push = try drift(["push", r.remote, "--state", archive, "--manifest", f.mdir])
        #expect(push.code == 0, "\(push.err)")
        #expect(push.out.contains("pushed refs/drift/") && push.out.contains(r.idA), "\(push.out)")
        let ref = try sh("git --git-dir='\(r.remote)' for-each-ref --format='%(refname)' refs/drift/")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ref.hasSuffix("/" + r.idA), "\(ref)")
        // Stock git accepts what was pushed: the bundle verifies, the patch applies on A.
        let work = f.dir.sub("apply")
        try sh("git clone -q '\(r.remote)' '\(work)' && git -C '\(work)' checkout -q \(r.commitA)")
        try sh("git --git-dir='\(r.remote)' show '\(ref):drift.bundle' > '\(f.dir.sub("b.bundle"))'")
        let verify = try run(["git", "-C", work, "bundle", "verify", f.dir.sub("b.bundle")])
        #expect(verify.code == 0, "\(verify.err)")
        try sh("git --git-dir='\(r.remote)' show '\(ref):drift.patch' > '\(f.dir.sub("p.patch"))'")
        let am = try run(["git", "-C", work, "-c", "user.name=t", "-c", "user.email=t@t", "am",
                          f.dir.sub("p.patch")])
        #expect(am.code == 0, "\(am.err)")
        let applied = try String(contentsOfFile: work + "/worker/main.py", encoding: .utf8)
        #expect(applied.contains("worker fixed"))
        // Pushed is remembered in the archive; the next push there says so.
        let again2 = try drift(["push", r.remote, "--state", archive, "--manifest", f.mdir])
        #expect(again2.code == 0 && again2.out.contains("already pushed"), "\(again2.out) \(again2.err)")

        // log and status on the archive: sentences, no libgit2 line; status on the current
        // state names the archive.
        let log = try drift(["log", "--state", archive, "--manifest", f.mdir])
        #expect(log.code == 0, "\(log.err)")
        #expect(log.out.contains("archived state of base commit \(r.commitA)") && log.out.contains(r.idA),
                "\(log.out)")
        let status = try drift(["status", "--state", archive, "--manifest", f.mdir])
        #expect(status.code == 0, "\(status.err)")
        #expect(status.out.contains("archived: base commit \(r.commitA)"), "\(status.out)")
        #expect(status.out.contains("  base commit   \(r.commitA)\n"), "the archive's own base: \(status.out)")
        let current = try drift(["status", "--state", f.state, "--manifest", f.mdir])
        #expect(current.code == 0 && current.out.contains("previous") && current.out.contains(archive),
                "\(current.out)")
        // An archive is never scanned into (nor archived again).
        let into = try drift(["scan", "--state", archive, "--manifest", f.mdir])
        #expect(into.code == 2 && into.err.contains("archived state of base commit"), "\(into.err)")
    }

    @Test("before any scan moved it, the old state's exports push with the new manifest; log and status say whose")
    func pushBeforeArchive() throws {
        let r = try Redeploy()
        defer { r.f.dir.remove() }
        let f = r.f
        let status = try drift(["status", "--state", f.state, "--manifest", f.mdir])
        #expect(status.code == 0, "\(status.err)")
        #expect(status.out.contains("of base commit \(r.commitA), not the manifest's"), "\(status.out)")
        let log = try drift(["log", "--state", f.state, "--manifest", f.mdir])
        #expect(log.code == 0 && log.out.contains(r.idA), "\(log.out) \(log.err)")
        #expect(!log.err.contains("git_commit_lookup"))
        let push = try drift(["push", r.remote, "--state", f.state, "--manifest", f.mdir])
        #expect(push.code == 0 && push.out.contains(r.idA), "\(push.out) \(push.err)")
        // Then the scan archives a state that knows it pushed.
        let (scan, _) = try f.scan()
        #expect(scan.code == 0, "\(scan.err)")
        // Incident 12 F10: the note advises a push only when some export is not pushed.
        #expect(scan.err.contains("and starting clean; every export was pushed (1)")
                && !scan.err.contains("not pushed yet"), "\(scan.err)")
        let archive = try #require(try r.archives().first)
        let old = try String(contentsOfFile: archive + "/state.json", encoding: .utf8)
        #expect(old.contains("\"pushed\""), "\(old)")
    }

    @Test("drift watch starts on the new base (it archived the old state) and a racing scan waits for the lock")
    func watchStartsAndRacesScan() throws {
        let r = try Redeploy()
        defer { r.f.dir.remove() }
        let f = r.f
        let w = try WatchProcess(f)
        defer { w.kill() }
        // A cron scan at the same moment: one of the two moves the old state, the other sees the new.
        let scan = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--wait", "60"])
        #expect(scan.code == 0, "\(scan.err)")
        try w.waitReady(timeout: 60)
        #expect(try r.archives().count == 1)
        let said = w.stderr + scan.err
        #expect(said.components(separatedBy: "moved it whole to").count == 2, "once: \(said)")
        #expect(w.terminate() == 0)
    }

    @Test("status prints the watcher and failure lines before an error reading the state (docs/operations.md)")
    func statusBeforeError() throws {
        let r = try Redeploy()
        defer { r.f.dir.remove() }
        let f = r.f
        try sh("rm -f '\(f.state)/state.json' && mkdir '\(f.state)/state.json'")
        let status = try drift(["status", "--state", f.state, "--manifest", f.mdir])
        #expect(status.code == 2, "\(status.out)")
        #expect(status.out.contains("DOES NOT LOAD") && status.out.contains("watcher")
                && status.out.contains("failures"), "\(status.out)")
        #expect(status.err.contains("state.json"), "\(status.err)")
    }

    @Test("a move killed half way (journal moved, state.json not) is finished by the next locked run")
    func killedMidMove() throws {
        let r = try Redeploy()
        defer { r.f.dir.remove() }
        let f = r.f
        let partial = f.state + "/previous/.\(r.commitA)-20261207T000000Z.partial"
        try sh("mkdir -p '\(partial)' && mv '\(f.state)/journal.git' '\(partial)/'")
        let (scan, _) = try f.scan()
        #expect(scan.code == 0, "\(scan.err)")
        #expect(scan.err.contains("finished moving"), "\(scan.err)")
        let done = f.state + "/previous/\(r.commitA)-20261207T000000Z"
        #expect(try r.archives() == [done])
        let old = try String(contentsOfFile: done + "/state.json", encoding: .utf8)
        #expect(old.contains(r.commitA))
        #expect(FileManager.default.fileExists(atPath: done + "/journal.git/refs/drift-ledger/" + r.idA))
        let push = try drift(["push", r.remote, "--state", done, "--manifest", f.mdir])
        #expect(push.code == 0 && push.out.contains(r.idA), "\(push.out) \(push.err)")
    }

    @Test("a damaged state.json of the old base: its journal is archived with it; rollback archives again")
    func damagedStateAndRollback() throws {
        let r = try Redeploy()
        defer { r.f.dir.remove() }
        let f = r.f
        try "{not json".write(toFile: f.state + "/state.json", atomically: false, encoding: .utf8)
        let (scan, _) = try f.scan()
        #expect(scan.code == 0, "\(scan.err)")
        let archive = try #require(try r.archives().first)
        #expect(FileManager.default.fileExists(atPath: archive + "/journal.git/refs/drift-ledger/" + r.idA))
        let kept = try String(contentsOfFile: archive + "/state.json", encoding: .utf8)
        #expect(kept == "{not json")
        // Rollback to A's image: B's state is archived in its turn, nothing restored.
        try sh("git checkout -q \(r.commitA)", cwd: f.upstream)
        try sh("rm -rf '\(f.workspace)' '\(f.mdir)' && mkdir -p '\(f.workspace)' && "
               + "git -C '\(f.upstream)' archive HEAD | tar -x -C '\(f.workspace)'")
        try f.bake()
        let (back, _) = try f.scan()
        #expect(back.code == 0, "\(back.err)")
        let all = try r.archives()
        #expect(all.count == 2 && all.contains { $0.contains(r.commitB + "-") }, "\(all)")
    }
}
