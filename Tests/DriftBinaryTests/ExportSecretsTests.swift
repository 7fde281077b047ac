import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Issue 22: what export and push ship is checked against the secrets known at export/push
/// time, not those known when the journal was written (a cron scan without the variable).
@Suite("ExportSecrets")
struct ExportSecretsTests {
    static func token() -> String {
        "tok-" + String(format: "%08x%08x", UInt32.random(in: 0...UInt32.max), UInt32.random(in: 0...UInt32.max))
    }

    /// Every object a bundle brings, as text: fetched into a fresh clone of upstream.
    static func bundleObjects(_ bundle: String, f: Fixture, name: String) throws -> String {
        let clone = f.dir.sub(name)
        try sh("git clone -q '\(f.upstream)' '\(clone)' && git -C '\(clone)' fetch -q '\(bundle)' "
               + "'refs/heads/drift/*:refs/remotes/b/*'")
        return try run(["git", "-C", clone, "cat-file", "--batch-all-objects", "--batch"]).out
    }

    static func hash(_ token: String) throws -> String { try SHA256Hasher.digest(Array(token.utf8)).hex }

    static func noTrace(_ text: String, _ token: String, _ what: String) throws {
        #expect(!text.contains(token), "\(what) holds the value")
        #expect(!text.contains(try hash(token)), "\(what) holds the value's SHA-256")
    }

    @Test("journaled by a scan without the variable, exported with it: refused, then forget exports it clean")
    func journaledWithoutVariable() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let token = Self.token()
        let common = ["--manifest", f.mdir, "--state", f.state]
        let known = ["VENDOR_API_TOKEN": token]
        try sh("printf 'GREETING = \"%s\"\\n' '\(token)' > worker/retry.py && echo 'FIX = 7' >> worker/util.py",
               cwd: f.workspace)
        // The cron scan: no variable.
        #expect(try drift(["scan"] + common).code == 1)
        #expect(try ForgetTests.allObjects(f.state + "/journal.git").contains(token))
        // The on-call shell has it.
        let scan = try drift(["scan"] + common, env: known)
        #expect(scan.out.contains("secret content"), "\(scan.out)")
        let out = f.dir.sub("hx8")
        let ex = try drift(["export", "--output", out] + common, env: known)
        let journal = try drift(["export", "--from-journal", "--output", out] + common, env: known)
        // The export's own scan (variable set) records a clean snapshot only if the drift
        // changed; here it is the same drift, so the stale snapshot is the latest: refused.
        #expect(ex.code == 2 && journal.code == 2, "\(ex.err)\(journal.err)")
        for r in [ex, journal] where r.code != 0 {
            #expect(r.code == 2, "\(r.err)")
            #expect(r.err.hasPrefix("drift: ") && r.err.contains("worker/retry.py") && r.err.contains("drift forget"),
                    "\(r.err)")
            #expect(!r.err.contains(token))
        }
        if ex.code == 0 || journal.code == 0 {
            // Re-snapshotted clean: then nothing it wrote holds the value.
            for name in ["drift.patch", "report.json"] {
                try Self.noTrace(String(decoding: try readWholeFile(out + "/" + name), as: UTF8.self), token, name)
            }
            try Self.noTrace(try Self.bundleObjects(out + "/drift.bundle", f: f, name: "c0"), token, "bundle")
        } else {
            #expect(!FileManager.default.fileExists(atPath: out + "/drift.patch"))
        }
        // What the refusal says to do works, and then the export carries the rest only.
        let forget = try drift(["forget"] + common, env: known)
        #expect(forget.code == 0, "\(forget.err)")
        let again = try drift(["export", "--force", "--output", out] + common, env: known)
        #expect(again.code == 0, "\(again.err)")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 7"))
        try Self.noTrace(patch, token, "drift.patch")
        try Self.noTrace(String(decoding: try readWholeFile(out + "/report.json"), as: UTF8.self), token, "report")
        try Self.noTrace(try Self.bundleObjects(out + "/drift.bundle", f: f, name: "c1"), token, "bundle")
        // And the push sends a ledger with none of it.
        let remote = f.dir.sub("remote.git")
        try sh("git clone -q --bare '\(f.upstream)' '\(remote)'")
        let push = try drift(["push", remote] + common, env: known)
        #expect(push.code == 0, "\(push.err)")
        let ref = try sh("git --git-dir='\(remote)' for-each-ref --format='%(refname)' refs/drift/")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.noTrace(try ForgetTests.allObjects(remote), token, "the pushed ref's objects")
        try sh("git --git-dir='\(remote)' show '\(ref):drift.bundle' > '\(f.dir.sub("pushed.bundle"))'")
        try Self.noTrace(try Self.bundleObjects(f.dir.sub("pushed.bundle"), f: f, name: "c2"), token, "pushed bundle")
    }

    @Test("an earlier export of the chain holds a secret known now: the follow-up starts a new chain on the base")
    func chainNotCarried() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let token = Self.token()
        let common = ["--manifest", f.mdir, "--state", f.state]
        let known = ["VENDOR_API_TOKEN": token]
        try sh("printf 'GREETING = \"%s\"\\n' '\(token)' > worker/retry.py", cwd: f.workspace)
        let hx7 = f.dir.sub("hx7")
        #expect(try drift(["export", "--output", hx7] + common).code == 0, "exported before it was known")
        // Learned; the paste is fixed on the instance and one more change is made.
        try sh("rm worker/retry.py && echo 'FIX = 8' >> worker/util.py", cwd: f.workspace)
        let hx8 = f.dir.sub("hx8")
        let r = try drift(["export", "--output", hx8] + common, env: known)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.components(separatedBy: "new chain on the base").count == 2, "said once: \(r.err)")
        #expect(!r.out.contains("follows"), "\(r.out)")
        try Self.noTrace(try Self.bundleObjects(hx8 + "/drift.bundle", f: f, name: "c1"), token, "follow-up bundle")
        let patch = String(decoding: try readWholeFile(hx8 + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("+FIX = 8") && patch.contains("Re-apply"), "cumulative: \(patch)")
        try Self.noTrace(patch, token, "drift.patch")
        // git am applies it on the base.
        let clone = f.dir.sub("am")
        try sh("git clone -q '\(f.upstream)' '\(clone)'")
        #expect(try run(["git", "-C", clone, "am", hx8 + "/drift.patch"]).code == 0)
    }

    @Test("push of an export made before the secret was known is refused, nothing sent")
    func pushOfStaleExportRefused() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let token = Self.token()
        let common = ["--manifest", f.mdir, "--state", f.state]
        try sh("printf 'GREETING = \"%s\"\\n' '\(token)' > worker/retry.py", cwd: f.workspace)
        #expect(try drift(["export", "--output", f.dir.sub("o")] + common).code == 0)
        let remote = f.dir.sub("remote.git")
        try sh("git clone -q --bare '\(f.upstream)' '\(remote)'")
        // Known now from a secret file instead of the environment.
        try sh("printf 'VENDOR_API_TOKEN=%s\\n' '\(token)' > .env", cwd: f.workspace)
        let push = try drift(["push", remote] + common)
        #expect(push.code == 2, "\(push.out)\(push.err)")
        #expect(push.err.hasPrefix("drift: ") && push.err.contains("drift forget") && !push.err.contains(token))
        #expect(try sh("git --git-dir='\(remote)' for-each-ref refs/drift/").isEmpty)
        #expect(!(try ForgetTests.allObjects(remote).contains(token)))
    }

    @Test("other carriers: a symlink target, a renamed file, a file name", arguments: ["symlink", "renamed", "name"])
    func otherCarriers(_ variant: String) throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let token = Self.token()
        let common = ["--manifest", f.mdir, "--state", f.state]
        let known = ["VENDOR_API_TOKEN": token]
        switch variant {
        case "symlink": try sh("ln -s '\(token)' worker/cfg-link", cwd: f.workspace)
        case "renamed": try sh("printf 'X = \"%s\"\\n' '\(token)' >> worker/util.py && mv worker/util.py worker/u2.py",
                               cwd: f.workspace)
        default: try sh("echo 'A = 1' > 'worker/\(token).py'", cwd: f.workspace)
        }
        #expect(try drift(["scan"] + common).code == 1)
        let out = f.dir.sub("o")
        let ex = try drift(["export", "--output", out] + common, env: known)
        let wrote = try everythingDriftWrote([ex], dirs: [out])
        #expect(!contains(wrote, Array(token.utf8)), "\(variant): \(ex.err)")
        if ex.code == 0 {
            try Self.noTrace(try Self.bundleObjects(out + "/drift.bundle", f: f, name: "c"), token, variant)
        } else {
            #expect(ex.code == 2 && ex.err.hasPrefix("drift: "), "\(ex.err)")
        }
    }

    @Test("no secret source at all: scan and export say so on stderr")
    func noSourcesNote() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("rm .env", cwd: f.workspace)
        try f.bake()
        try sh("echo 'FIX = 9' >> worker/util.py", cwd: f.workspace)
        let common = ["--manifest", f.mdir, "--state", f.state]
        let envI = ["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "DRIFT_TEST_PID1_ENVIRON=/nonexistent/e",
                    "DRIFT_SUPERVISOR_CONF=/nonexistent/s", driftBinary()]
        let scan = try run(envI + ["scan"] + common)
        #expect(scan.err.contains("drift: note: no secret sources"), "\(scan.code) \(scan.err)")
        let ex = try run(envI + ["export", "--output", f.dir.sub("o")] + common)
        #expect(ex.err.contains("drift: note: no secret sources"), "\(ex.code) \(ex.err)")
    }
}
