import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

@Suite("Git reconciliation")
struct GitTests {
    /// The hotfix every test here applies: each kind of code change, plus config and data.
    static func hotfix(_ f: Fixture) throws {
        try sh("""
            printf 'def helper(x):\\n    return x + 2  # hotfix\\n' > worker/util.py
            printf 'RETRIES = 5\\n' > worker/limits.py
            rm config/settings.yaml
            chmod +x worker/main.py
            rm entry.py && ln -s worker/util.py entry.py
            printf '\\000\\377\\001binary hotfix\\n' > assets/logo.bin
            printf 'TOKEN=\(Fixture.secret)\\n' > .env
            printf 'retrained' > packages/models/whisper.bin
            """, cwd: f.workspace)
        try writeFile(bytesPath: Array("\(f.workspace)/worker/caf".utf8) + [0xE9] + Array(".py".utf8),
                      "latin1 = True\n")
    }

    /// The tree git itself makes from the workspace's code files on top of the base.
    static func expectedTree(_ f: Fixture) throws -> String {
        let clone = f.dir.sub("oracle")
        try sh("git clone -q '\(f.upstream)' '\(clone)'")
        // Replace tracked code with the workspace's code; keep base versions of config/data.
        try sh("""
            git ls-files -z | grep -zv -e '^\\.env$' -e '^packages/models/' | xargs -0 rm -f
            (cd '\(f.workspace)' && tar --exclude=./logs --exclude=__pycache__ --exclude=./packages/models \
            --exclude=./.env -cf - .) | tar -xf - -C '\(clone)'
            git add -A && git write-tree
            """, cwd: clone)
        return try sh("git write-tree", cwd: clone).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("export: git am applies, the bundle verifies and fetches, trees agree with git's own")
    func exportRoundTrip() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try Self.hotfix(f)
        let out = f.dir.sub("out")
        let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out,
                           "--author", "Ops <ops@example.com>"])
        #expect(r.code == 0, "\(r.err)")
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)'")
        try sh("git am -q '\(out)/drift.patch'", cwd: clone)
        let amTree = try sh("git rev-parse 'HEAD^{tree}'", cwd: clone).trimmingCharacters(in: .whitespacesAndNewlines)
        let verify = try run(["git", "bundle", "verify", out + "/drift.bundle"], cwd: clone)
        #expect(verify.code == 0, "\(verify.err)")
        let heads = try sh("git bundle list-heads '\(out)/drift.bundle'", cwd: clone)
        let ref = heads.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        #expect(ref.hasPrefix("refs/heads/drift/"))
        try sh("git fetch -q '\(out)/drift.bundle' '\(ref):refs/remotes/drift/x'", cwd: clone)
        let bundleTree = try sh("git rev-parse 'refs/remotes/drift/x^{tree}'", cwd: clone)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(amTree == bundleTree)
        #expect(amTree == (try Self.expectedTree(f)))
        let log = try sh("git log -1 --format=%B%n%an", cwd: clone)
        #expect(log.contains("Drift-Id: "))
        #expect(log.contains("Drift-Base: "))
        #expect(log.contains(".env"))
        #expect(log.contains("packages/models/whisper.bin"))
        #expect(log.contains("Ops"))
        // Files are 0600.
        let mode = try sh("stat -c %a '\(out)/drift.bundle' '\(out)/drift.patch' '\(out)/report.json'")
        #expect(mode.split(separator: "\n").allSatisfy { $0 == "600" })
    }

    @Test("no byte of the export carries a secret, not even inside the bundle's objects")
    func noSecretLeak() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try Self.hotfix(f)
        let out = f.dir.sub("out")
        #expect(try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out]).code == 0)
        let grep = try run(["grep", "-r", "-a", "-l", Fixture.secret, out])
        #expect(grep.code == 1, "secret found in \(grep.out)")
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && cd '\(clone)'"
               + " && git fetch -q '\(out)/drift.bundle' 'refs/heads/*:refs/remotes/b/*'", cwd: f.dir.path)
        let objs = try sh("git cat-file --batch-all-objects --batch | grep -a -c '\(Fixture.secret)' || true",
                          cwd: clone)
        #expect(objs.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // Nor in the journal.
        let j = try sh("git --git-dir='\(f.state)/journal.git' cat-file --batch-all-objects --batch"
                       + " | grep -a -c '\(Fixture.secret)' || true")
        #expect(j.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // Nor in the scan report: its content never is, but its hash would be (a short secret's
        // SHA-256 is guessed offline). The secret file is there by name only.
        let (r, report) = try f.scan()
        let env = files(report).first { $0["path"] as? String == ".env" }
        #expect(env?["secret"] as? Bool == true, "\(r.out)")
        #expect(env?["change"] as? String == "modified")
        #expect(env.map { $0["new_sha256"] == nil && $0["old_sha256"] == nil } == true, "\(env ?? [:])")
        let hash = try SHA256Hasher.digest(Array("TOKEN=\(Fixture.secret)\n".utf8)).hex
        #expect(!r.out.contains(hash))
    }

    @Test("drift diff is accepted by git apply and withholds config and data content")
    func diffApplies() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try Self.hotfix(f)
        let r = try drift(["diff", "--manifest", f.mdir, "--state", f.state])
        #expect(r.code == 1)
        #expect(r.out.contains("# drift: .env: modified, content withheld"))
        #expect(r.out.contains("# drift: packages/models/whisper.bin: modified (data) sha256 "))
        #expect(r.out.contains("GIT binary patch"))
        #expect(!r.out.contains(Fixture.secret))
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)'")
        try write(f.dir.sub("d.patch"), r.out)
        let check = try run(["git", "apply", "--check", f.dir.sub("d.patch")], cwd: clone)
        #expect(check.code == 0, "\(check.err)")
        // Limited to a path.
        let one = try drift(["diff", "--manifest", f.mdir, "--state", f.state, "worker/util.py"])
        #expect(one.out.contains("worker/util.py") && !one.out.contains("limits.py"))
        // Clean workspace: exit 0, empty diff.
        let f2 = try Fixture()
        defer { f2.dir.remove() }
        try f2.bake()
        let clean = try drift(["diff", "--manifest", f2.mdir, "--state", f2.state])
        #expect(clean.code == 0 && clean.out.isEmpty)
    }

    @Test("the journal keeps every version; --from-journal exports the last one recorded")
    func journalVersions() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'v = 1' >> worker/util.py", cwd: f.workspace)
        _ = try f.scan()
        try sh("echo 'v = 2' >> worker/util.py", cwd: f.workspace)
        _ = try f.scan()
        try sh("git -C '\(f.upstream)' show HEAD:worker/util.py > worker/util.py", cwd: f.workspace)
        let (r, _) = try f.scan()
        #expect(r.code == 0)
        let gitDir = f.state + "/journal.git"
        let versions = try sh("git --git-dir='\(gitDir)' log --format=%H journal"
                              + " --not $(sed -n 's/^commit //p' '\(f.mdir)/manifest.txt')"
                              + " | while read c; do git --git-dir='\(gitDir)' show $c:worker/util.py | tail -1; done")
        #expect(versions == "v = 2\nv = 1\n")
        let out = f.dir.sub("out")
        #expect(try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out,
                           "--from-journal"]).code == 0)
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && cd '\(clone)' && git am -q '\(out)/drift.patch'")
        #expect(try sh("tail -1 worker/util.py", cwd: clone) == "v = 2\n")
    }

    @Test("a workspace reset to the image still exports the hotfix; the source repo is not needed")
    func resetWorkspaceAndNoSourceRepo() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        // Keep a copy of upstream for the oracle, then delete the source repository.
        try sh("cp -a '\(f.upstream)' '\(f.dir.sub("upstream-copy"))' && rm -rf '\(f.upstream)'")
        try sh("echo 'hot = True' >> worker/main.py", cwd: f.workspace)
        _ = try f.scan()
        #expect(try drift(["diff", "--manifest", f.mdir, "--state", f.state]).code == 1)
        // Container recreated: the workspace is the image again, the state volume is kept.
        try sh("rm -rf '\(f.workspace)' && mkdir '\(f.workspace)'"
               + " && git -C '\(f.dir.sub("upstream-copy"))' archive HEAD | tar -x -C '\(f.workspace)'")
        let out = f.dir.sub("out")
        let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("from the journal"))
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.dir.sub("upstream-copy"))' '\(clone)'"
               + " && cd '\(clone)' && git am -q '\(out)/drift.patch'")
        #expect(try sh("tail -1 worker/main.py", cwd: clone) == "hot = True\n")
    }

    @Test("the same drift gives the same Drift-Id; one more byte gives a new one")
    func stableID() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 1' >> worker/util.py", cwd: f.workspace)
        func exportID(_ name: String) throws -> String {
            let out = f.dir.sub(name)
            let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
            #expect(r.code == 0, "\(r.err)")
            let patch = try String(contentsOfFile: out + "/drift.patch", encoding: .utf8)
            return patch.split(separator: "\n").first { $0.hasPrefix("Drift-Id: ") }.map(String.init) ?? ""
        }
        let a = try exportID("o1")
        let b = try exportID("o2")
        #expect(!a.isEmpty && a == b)
        try sh("printf 'y' >> worker/util.py", cwd: f.workspace)
        #expect(try exportID("o3") != a)
    }

    @Test("bad input: missing base objects, a corrupt object, a foreign state dir, a non-empty output")
    func badInput() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'x = 1' >> worker/util.py", cwd: f.workspace)
        let out = f.dir.sub("out")
        // Non-empty output refused, nothing written into it.
        try write(out + "/keep.txt", "mine")
        let r1 = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        #expect(r1.code == 2 && r1.err.contains("not empty"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["keep.txt"])
        #expect(try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out, "--force"]).code == 0)
        // A state dir from another base commit.
        try sh("echo more >> worker/util.py && git add -A && git commit -qm second", cwd: f.upstream)
        let m2 = f.dir.sub("mdir2")
        #expect(try drift(["manifest", "create", "--root", f.workspace, "--repo", f.upstream,
                           "--output", m2]).code == 0)
        // It is moved whole to SDIR/previous/ (docs/state.md, "A new base commit"), never mixed in.
        let r2 = try drift(["export", "--manifest", m2, "--state", f.state, "--output", f.dir.sub("o2")])
        #expect(r2.err.contains("moved it whole to"), "\(r2.err)")
        let prev = try FileManager.default.contentsOfDirectory(atPath: f.state + "/previous")
        #expect(prev.count == 1 && FileManager.default.fileExists(atPath: "\(f.state)/previous/\(prev[0])/journal.git"))
        // Corrupt objects in MDIR.
        try sh("find '\(f.mdir)/base.git/objects' -type f \\( -path '*/objects/??/*' -o -name '*.pack' \\)"
               + " | while read o; do chmod u+w \"$o\"; printf 'garbage' > \"$o\"; done")
        let r3 = try drift(["export", "--manifest", f.mdir, "--state", f.dir.sub("s3"), "--output", f.dir.sub("o3")])
        #expect(r3.code == 2, "\(r3.err)")
        #expect(r3.err.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: f.dir.sub("o3")))
        // Missing objects.
        try sh("rm -rf '\(f.mdir)/base.git'")
        let r4 = try drift(["diff", "--manifest", f.mdir, "--state", f.dir.sub("s4")])
        #expect(r4.code == 2 && r4.err.contains("base objects are missing"), "\(r4.err)")
    }
}
