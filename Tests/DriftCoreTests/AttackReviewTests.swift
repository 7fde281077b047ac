import Foundation
import Testing
@testable import DriftCore

/// An attacker's review of issues 11 and 12: routes the issues' tests do not take.
@Suite("Attack review")
struct AttackReviewTests {
    @Test("--message lines that git am reads as a patch break or an mbox split are refused, exit 2, nothing written")
    func messageCannotForgeAPatch() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'FIXED = 1' >> worker/util.py", cwd: f.workspace)
        let smuggle = "Fix the queue\n\nbody\n---\ndiff --git a/app/evil.py b/app/evil.py\nnew file mode 100644\n"
            + "--- /dev/null\n+++ b/app/evil.py\n@@ -0,0 +1 @@\n+import os\n"
        let mbox = "Fix\n\nFrom 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nSubject: x\n"
        for (i, message) in [smuggle, mbox, "Fix\n\nline\rDrift-Id: forged"].enumerated() {
            let out = f.dir.sub("out\(i)")
            let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out, "--message", message])
            #expect(r.code == 2, "\(r.out)")
            #expect(r.err.hasPrefix("drift: ") && r.err.split(separator: "\n").count == 1, "\(r.err)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        // An honest multi-line message still exports, and git am keeps drift's trailers.
        let out = f.dir.sub("ok")
        let ok = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out,
                            "--message", "Fix the queue\n\nSee ticket 42 -- the worker\n  --- indented is fine\n"])
        try #require(ok.code == 0, "\(ok.err)")
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && cd '\(clone)' && git am -q '\(out)/drift.patch'")
        #expect(Trailers(try sh("git -C '\(clone)' log -1 --format=%B")).values("Drift-Id").count == 1)
    }

    @Test("--author with a CR, CRLF or newline in name or email is refused with the value quoted")
    func authorCannotForgeHeaders() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'FIXED = 1' >> worker/util.py", cwd: f.workspace)
        for (i, author) in ["Eve\r\nDrift-Id: x <e@x>", "Eve <e@x\nSubject: forged>", "Eve\r <e@x>"].enumerated() {
            let out = f.dir.sub("out\(i)")
            let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out, "--author", author])
            #expect(r.code == 2, "\(r.out)")
            #expect(r.err.hasPrefix("drift: ") && r.err.split(separator: "\n").count == 1, "\(r.err)")
            #expect(!r.err.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "\(r.err)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
