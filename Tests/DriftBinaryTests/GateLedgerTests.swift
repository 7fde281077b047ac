import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// The gate's second day (issue 23 a–e, 27, 28): withheld code, ids bound to content, a REV
/// without the base, follow-up chains, ref retention, whole-component prefixes, big entries.
@Suite("Gate ledger: withheld, binding, chains, prune")
struct GateLedgerTests {
    static func json(_ r: Run) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
    }

    static func entries(_ r: Run) -> [[String: Any]] { json(r)["entries"] as? [[String: Any]] ?? [] }

    /// Exports the fixture's drift as host `host` into `out`; returns the id.
    static func export(_ f: Fixture, _ out: String, host: String = "host-a", state: String? = nil) throws -> String {
        let r = try drift(["export", "--manifest", f.mdir, "--state", state ?? f.state, "--output", out],
                          env: ["DRIFT_HOST": host])
        guard r.code == 0 else { throw DriftError("export failed: \(r.err)") }
        let heads = try sh("git bundle list-heads '\(out)/drift.bundle'")
        let id = heads.split(separator: "/").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return try #require(id)
    }

    /// The journal's ledger commit of export `id`, fetched into `repo` as `ref`.
    static func fetchLedger(_ f: Fixture, id: String, into repo: String, as ref: String, state: String? = nil) throws {
        try sh("git -C '\(repo)' fetch -q '\(state ?? f.state)/journal.git' '+refs/drift-ledger/\(id):\(ref)'")
    }

    @Test("withheld code: report.json names it (no content, no hash); the gate rejects it until a waiver names it")
    func withheldCode() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let value = "pg-83746-s3cr3t-zz\(UInt32.random(in: 0...UInt32.max))"
        try sh("""
            printf 'TOKEN=\(value)\\n' > .env
            printf 'DSN = "postgres://app:\(value)@db/app"\\n' > worker/keys.py
            echo 'FIX = 1' >> worker/util.py
            """, cwd: f.workspace)
        let ledger = f.dir.sub("ledger")
        let id = try Self.export(f, ledger + "/a")
        let reportText = try String(contentsOfFile: ledger + "/a/report.json", encoding: .utf8)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(reportText.utf8)) as? [String: Any])
        let withheld = report["withheld"] as? [[String: String]] ?? []
        #expect(withheld == [["path": "worker/keys.py", "change": "added", "reason": "secret content"]],
                "\(reportText)")
        #expect(!reportText.contains(value))
        #expect((report["drift_id_inputs"] as? [String])?.contains { $0.hasSuffix(" code") } == true)

        // Before anything is upstream: missing, and the withheld path is named too.
        let r1 = try drift(["gate", "--repo", f.upstream, "--ledger", ledger])
        #expect(r1.code == 1 && r1.out.contains("MISSING") && r1.out.contains("not upstream: worker/util.py"))
        #expect(r1.out.contains("withheld: reconcile by hand, then waive: worker/keys.py (added, secret content)"),
                "\(r1.out)")
        // The patch is merged with git am: its trailer is in history, the withheld code is not.
        let up = f.dir.sub("up")
        try sh("git clone -q '\(f.upstream)' '\(up)' && cd '\(up)' && git am -q '\(ledger)/a/drift.patch'")
        let text = try drift(["gate", "--repo", up, "--ledger", ledger], env: ["GITHUB_ACTIONS": "true"])
        #expect(text.code == 1 && text.out.contains("WITHHELD drift \(id) from host-a"), "\(text.out)")
        #expect(text.out.contains("::error file=worker/keys.py::drift \(id) from host-a: withheld: reconcile by hand"))
        #expect(text.out.contains("1 drift entry (1 withheld code)"), "\(text.out)")
        let j = try drift(["gate", "--repo", up, "--ledger", ledger, "--format", "json"])
        let e = try #require(Self.entries(j).first)
        #expect(j.code == 1 && e["status"] as? String == "withheld")
        #expect((e["withheld"] as? [[String: String]])?.first?["path"] == "worker/keys.py")
        let sarif = try drift(["gate", "--repo", up, "--ledger", ledger, "--format", "sarif"])
        #expect(sarif.out.contains("\"ruleId\" : \"drift/withheld\"")
                && sarif.out.contains("\"uri\" : \"worker/keys.py\""), "\(sarif.out)")
        // A waiver naming it passes it.
        try write(f.dir.sub("waive.yaml"),
                  "waivers:\n  - {id: \"\(id)\", reason: \"keys re-done in the vault\", expires: \"2999-01-01\"}\n")
        let waived = try drift(["gate", "--repo", up, "--ledger", ledger, "--policy", f.dir.sub("waive.yaml")])
        #expect(waived.code == 0 && waived.out.contains("waived   drift \(id)"), "\(waived.out)")

        // The list is bound to the id: an entry with it stripped is invalid, not passed.
        let stripped = f.dir.sub("stripped")
        try sh("mkdir -p '\(stripped)/a' && cp '\(ledger)/a/'* '\(stripped)/a/'")
        let cut = reportText.replacingOccurrences(of: "\"withheld\" : [", with: "\"withheld\" : [], \"was\" : [")
        try write(stripped + "/a/report.json", cut)
        let s = try drift(["gate", "--repo", up, "--ledger", stripped])
        #expect(s.code == 1 && s.out.contains("INVALID  drift \(id)")
            && s.out.contains("withheld list is not the withheld code its id names"), "\(s.out)\(s.err)")
    }

    @Test("a forged entry (right ref name, other content) is invalid; a misnamed ref too; a genuine one is judged")
    func forgedID() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let ledger = f.dir.sub("ledger")
        let id = try Self.export(f, ledger + "/a")
        let ref = "refs/drift/host-a/\(id)"
        try Self.fetchLedger(f, id: id, into: f.upstream, as: ref)
        let genuine = try drift(["gate", "--repo", f.upstream, "--ledger-refs"])
        #expect(genuine.code == 1 && genuine.out.contains("MISSING  drift \(id) from host-a"), "\(genuine.out)")

        // Same id, same host, no changes at all: a bundle and a ledger commit by git plumbing.
        let forge = f.dir.sub("forge")
        try sh("""
            set -e
            git clone -q '\(f.upstream)' '\(forge)' && cd '\(forge)'
            base=$(git rev-parse HEAD)
            c=$(printf 'nothing\\n\\nDrift-Host: host-a\\nDrift-Id: \(id)\\nDrift-Base: %s\\n' $base \
                | git commit-tree HEAD^{tree} -p $base)
            git update-ref refs/heads/drift/\(id) $c
            mkdir -p '\(f.dir.sub("forged"))/a'
            git bundle create -q '\(f.dir.sub("forged"))/a/drift.bundle' refs/heads/drift/\(id) ^$base
            cp '\(ledger)/a/report.json' '\(f.dir.sub("forged"))/a/'
            cd '\(f.upstream)'
            b=$(git hash-object -w '\(f.dir.sub("forged"))/a/drift.bundle')
            r=$(git hash-object -w '\(f.dir.sub("forged"))/a/report.json')
            t=$(printf '100644 blob %s\\tdrift.bundle\\n100644 blob %s\\treport.json\\n' $b $r \\
                | git -C '\(f.upstream)' mktree)
            l=$(printf 'drift ledger\\n\\nDrift-Ledger: 1\\n' | git -C '\(f.upstream)' commit-tree $t)
            git -C '\(f.upstream)' update-ref '\(ref)' $l
            """)
        let dir = try drift(["gate", "--repo", f.upstream, "--ledger", f.dir.sub("forged")])
        #expect(dir.code == 1 && dir.out.contains("INVALID  drift \(id) from host-a: its Drift-Id \(id) is not the id"),
                "\(dir.out)\(dir.err)")
        let refs = try drift(["gate", "--repo", f.upstream, "--ledger-refs", "--format", "json"])
        let e = try #require(Self.entries(refs).first)
        #expect(refs.code == 1 && e["status"] as? String == "invalid", "\(refs.out)\(refs.err)")
        // A waiver does not pass a forged entry.
        try write(f.dir.sub("waive.yaml"), "waivers:\n  - {id: \"\(id)\", reason: \"x\", expires: \"2999-01-01\"}\n")
        let waived = try drift(["gate", "--repo", f.upstream, "--ledger-refs", "--policy", f.dir.sub("waive.yaml")])
        #expect(waived.code == 1)

        // The genuine ledger commit under another host's name is invalid too.
        try sh("git -C '\(f.upstream)' update-ref -d '\(ref)'")
        try Self.fetchLedger(f, id: id, into: f.upstream, as: "refs/drift/host-b/\(id)")
        let misnamed = try drift(["gate", "--repo", f.upstream, "--ledger-refs"])
        #expect(misnamed.code == 1 && misnamed.out.contains("the ref is named host-b/\(id)"), "\(misnamed.out)")
    }

    @Test("a ref pushed before ledger commits (the export commit) is judged with first seen unknown, not from prose")
    func legacyRefFirstSeenUnknown() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let out = f.dir.sub("out")
        let id = try Self.export(f, out)
        // What a drift from before ledger commits pushed: the export commit itself, one parent.
        let ref = "refs/drift/host-a/\(id)"
        try sh("git -C '\(f.upstream)' fetch -q '\(out)/drift.bundle' 'refs/heads/drift/\(id):\(ref)'")
        let message = try sh("git -C '\(f.upstream)' log -1 --format=%B '\(ref)'")
        #expect(message.contains("first seen 20"), "its message names first sightings, for people: \(message)")
        let fromDir = try #require(Self.entries(try drift(["gate", "--repo", f.upstream, "--ledger", out,
                                                            "--format", "json"])).first)
        #expect(fromDir["first_seen"] is String, "report.json carries it: \(fromDir)")
        let json = try drift(["gate", "--repo", f.upstream, "--ledger-refs", "--format", "json"])
        let e = try #require(Self.entries(json).first)
        #expect(json.code == 1 && e["status"] as? String == "missing" && e["host"] as? String == "host-a",
                "\(json.out)\(json.err)")
        #expect(e["first_seen"] == nil && e["age_seconds"] == nil, "\(e)")
        let text = try drift(["gate", "--repo", f.upstream, "--ledger-refs"])
        #expect(text.code == 1 && text.out.contains("MISSING  drift \(id) from host-a")
                && text.out.contains("first seen unknown"), "\(text.out)\(text.err)")
        // Applied upstream, it is reconciled like any entry.
        try sh("git -C '\(f.upstream)' am -q '\(out)/drift.patch'")
        let done = try drift(["gate", "--repo", f.upstream, "--ledger-refs"])
        #expect(done.code == 0 && done.out.contains("ok       drift \(id)"), "\(done.out)\(done.err)")
    }

    @Test("a REV without the image base is a rejection (exit 1) that says so, not an error")
    func revWithoutBase() throws {
        let (f, ledger) = try GateTests.exported()
        defer { f.dir.remove() }
        try sh("git checkout -q --orphan other && git commit -qm 'unrelated root'", cwd: f.upstream)
        let r = try drift(["gate", "--repo", f.upstream, "--ledger", ledger, "--commit", "other"])
        #expect(r.code == 1 && r.err.isEmpty, "\(r.out)\(r.err)")
        #expect(r.out.contains("does not contain the image base") && r.out.contains("NO BASE "), "\(r.out)")
        let j = try drift(["gate", "--repo", f.upstream, "--ledger", ledger, "--commit", "other", "--format", "json"])
        #expect(Self.entries(j).first?["status"] as? String == "no-base")
        // A base the repository does not have at all: the same verdict.
        let empty = f.dir.sub("empty")
        try sh("git init -q '\(empty)' && cd '\(empty)' && git commit -q --allow-empty -m root")
        let none = try drift(["gate", "--repo", empty, "--ledger", ledger])
        #expect(none.code == 1 && none.out.contains("does not contain the image base"), "\(none.out)\(none.err)")
    }

    @Test("ref prefixes match whole components: refs/drift/host-2 is not refs/drift/host-20")
    func prefixComponents() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try sh("""
            git init -q . && git commit -q --allow-empty -m root
            for r in host-2/aaaaaaaa host-20/bbbbbbbb host-200/cccccccc host-2x dd/host-2/eeeeeeee; do
                git update-ref refs/drift/$r HEAD
            done
            """, cwd: dir.path)
        let repo = try GitRepository(path: dir.path)
        func names(_ p: String) throws -> [String] { try repo.referenceTargets(under: p).map(\.name) }
        #expect(try names("refs/drift/host-2") == ["refs/drift/host-2/aaaaaaaa"])
        #expect(try names("refs/drift/host-2/") == ["refs/drift/host-2/aaaaaaaa"])
        #expect(try names("refs/drift/host-2x") == ["refs/drift/host-2x"])
        #expect(try names("refs/drift/").count == 5)
        #expect(try names("refs/drift").count == 5)
    }

    @Test("an entry with 100,000 changed paths in one directory is judged (missing, then reconciled)")
    func hundredThousandPaths() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let n = 100_000
        let base = try sh("git -C '\(f.upstream)' rev-parse HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        // One fast-import stream: a commit adding n files (one blob) under bulk/.
        var stream = "blob\nmark :1\ndata 2\nx\ncommit refs/heads/bulk\nmark :2\n"
            + "committer T <t@e> 1700000000 +0000\ndata 4\nbulk\nfrom \(base)\n"
        for i in 0..<n { stream += "M 100644 :1 bulk/f\(i).py\n" }
        try write(f.dir.sub("stream"), stream + "\n")
        // Generous bounds: a guard against hangs on a loaded machine, not a speed check.
        func slow(_ script: String, cwd: String? = nil) throws {
            let r = try run(["/bin/sh", "-c", script], cwd: cwd ?? f.upstream, timeout: 900)
            if r.code != 0 { throw DriftError("sh failed (\(r.code)): \(script)\n\(r.err)") }
        }
        try slow("git fast-import --quiet < '\(f.dir.sub("stream"))'")
        let tree = try sh("git -C '\(f.upstream)' rev-parse bulk^{tree}")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let id = try DriftID.compute(base: try #require(ObjectID(hex: base)), tree: try #require(ObjectID(hex: tree)),
                                     inputs: [])
        let ledger = f.dir.sub("ledger")
        try slow("""
            set -e
            c=$(printf 'bulk\\n\\nDrift-Host: bulk-host\\nDrift-Id: \(id)\\nDrift-Base: \(base)\\n' \
                | git commit-tree \(tree) -p \(base))
            git update-ref refs/heads/drift/\(id) $c
            mkdir -p '\(ledger)/b'
            git bundle create -q '\(ledger)/b/drift.bundle' refs/heads/drift/\(id) ^\(base)
            git update-ref -d refs/heads/bulk && git update-ref -d refs/heads/drift/\(id)
            git reflog expire --expire=now --all && git gc -q --prune=now
            """)
        let r = try drift(["gate", "--repo", f.upstream, "--ledger", ledger, "--format", "json"], timeout: 900)
        let e = try #require(Self.entries(r).first, "\(r.err)")
        #expect(r.code == 1 && (e["missing"] as? [String])?.count == n, "\(r.err)")
        // Upstream takes the same tree by hand: reconciled by content.
        try slow("git fetch -q '\(ledger)/b/drift.bundle' 'refs/heads/drift/*:refs/bulk/*' && "
                 + "git update-ref refs/heads/main $(git commit-tree \(tree) -p HEAD -m 'bulk by hand')")
        let ok = try drift(["gate", "--repo", f.upstream, "--ledger", ledger, "--format", "json"], timeout: 900)
        #expect(ok.code == 0 && Self.entries(ok).first?["reason"] as? String == "content", "\(ok.err)")
    }
}
