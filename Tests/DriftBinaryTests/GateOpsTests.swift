import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Incident 12's gate findings: a fleet's gate judged past one bad ref (F5), one bulk entry
/// that does not flood CI (F13), the same hotfix on several hosts (F4).
@Suite("Gate ops: bad refs, bulk entries, the same hotfix twice")
struct GateOpsTests {
    @Test("one ref that is not a ledger commit is one invalid entry; the fleet's other entries are still judged")
    func badRefIsOneInvalidEntry() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let id = try GateLedgerTests.export(f, f.dir.sub("ledger/a"))
        try GateLedgerTests.fetchLedger(f, id: id, into: f.upstream, as: "refs/drift/host-a/\(id)")
        let huge = f.dir.sub("huge.json")
        try sh("head -c \(17 << 20) /dev/zero | tr '\\0' ' ' > '\(huge)'")
        // Malformations a fleet makes: an ordinary commit, a tag, a tree, a blob, a symbolic
        // ref, a ledger commit without its bundle, one whose report.json is over its limit.
        try sh("""
            set -e
            cd '\(f.upstream)'
            git update-ref refs/drift/cpu-box-003/c6cd7262b55ddaf792a4 \
                $(git commit-tree 'HEAD^{tree}' -p HEAD -m 'an ordinary commit')
            git tag -a -m tag t1 HEAD && git update-ref refs/drift/box/aaaaaaaa $(git rev-parse t1)
            git update-ref refs/drift/box/bbbbbbbb $(git rev-parse 'HEAD^{tree}')
            git update-ref refs/drift/box/cccccccc $(echo blob | git hash-object -w --stdin)
            git symbolic-ref refs/drift/box/dddddddd refs/drift/host-a/\(id)
            r=$(echo '{}' | git hash-object -w --stdin)
            t=$(printf '100644 blob %s\\treport.json\\n' $r | git mktree)
            git update-ref refs/drift/box/eeeeeeee $(printf 'x\\n\\nDrift-Ledger: 1\\n' | git commit-tree $t)
            h=$(git hash-object -w '\(huge)')
            t=$(printf '100644 blob %s\\treport.json\\n' $h | git mktree)
            git update-ref refs/drift/box/ffffffff $(printf 'x\\n\\nDrift-Ledger: 1\\n' | git commit-tree $t)
            """)
        let r = try drift(["gate", "--repo", f.upstream, "--ledger-refs"], env: ["GITHUB_ACTIONS": "true"])
        #expect(r.code == 1 && r.out.contains("MISSING  drift \(id) from host-a"), "\(r.out)\(r.err)")
        #expect(r.out.contains("INVALID  drift c6cd7262b55ddaf792a4 from unknown: is not a drift ledger commit "
                               + "(no drift.bundle, no 'Drift-Ledger: 1' trailer) nor an older drift's export commit "
                               + "(no Drift-Id trailer) (refs/drift/cpu-box-003/c6cd7262b55ddaf792a4)"), "\(r.out)")
        for (name, why) in [("aaaaaaaa", "does not point at a readable commit"),
                            ("bbbbbbbb", "does not point at a readable commit"),
                            ("cccccccc", "does not point at a readable commit"),
                            ("dddddddd", "is a symbolic reference"),
                            ("eeeeeeee", "its tree has no drift.bundle"),
                            ("ffffffff", "report.json is over the 16 MiB limit")] {
            #expect(r.out.contains("INVALID  drift \(name) from unknown: \(why)"), "\(name): \(r.out)")
        }
        #expect(r.out.contains("::error::drift aaaaaaaa from unknown: does not point at a readable commit"))
        #expect(r.out.contains("gate: REJECTED: 8 drift entries (1 not upstream, 7 invalid)"), "\(r.out)")
        #expect(r.err.isEmpty, "\(r.err)")
        let j = try drift(["gate", "--repo", f.upstream, "--ledger-refs", "--format", "json"])
        let bad = GateLedgerTests.entries(j).filter { $0["status"] as? String == "invalid" }
        #expect(j.code == 1 && bad.count == 7 && bad.allSatisfy { $0["base"] == nil && $0["problem"] != nil },
                "\(j.out)")
        let sarif = try drift(["gate", "--repo", f.upstream, "--ledger-refs", "--format", "sarif"])
        #expect(sarif.code == 1 && sarif.out.components(separatedBy: "\"drift/invalid\"").count == 8 + 1)
        // Prune deletes nothing it could not read, and says so.
        let prune = try drift(["prune", "--repo", f.upstream, "--older-than", "0s", "--dry-run"])
        #expect(prune.code == 0 && prune.out.contains("refs/drift/box/aaaaaaaa") && prune.out.contains("invalid"),
                "\(prune.out)\(prune.err)")
        // A ref whose name carries no drift id cannot be reported as an entry: bad input, naming it.
        try sh("git -C '\(f.upstream)' update-ref refs/drift/notes $(git -C '\(f.upstream)' rev-parse HEAD)")
        let nameless = try drift(["gate", "--repo", f.upstream, "--ledger-refs"])
        #expect(nameless.code == 2 && nameless.err.contains("ledger ref refs/drift/notes: is not named"),
                "\(nameless.err)")
    }

    @Test("a bulk entry names its first 20 paths in text, annotations and SARIF, then counts the rest; JSON has all")
    func bulkEntryIsCapped() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("""
            mkdir -p worker/models/mini && for i in $(seq 1 50); do echo "W$i = $i" > worker/models/mini/w$i.py; done
            echo 'FIX = 1' >> worker/main.py
            """, cwd: f.workspace)
        let ledger = f.dir.sub("ledger")
        let id = try GateLedgerTests.export(f, ledger + "/a")
        let text = try drift(["gate", "--repo", f.upstream, "--ledger", ledger], env: ["GITHUB_ACTIONS": "true"])
        let lines = text.out.split(separator: "\n")
        #expect(text.code == 1 && lines.filter { $0.hasPrefix("         not upstream: ") }.count == 20, "\(text.out)")
        #expect(text.out.contains("         \u{2026} and 31 more not upstream under worker/models/mini/ "
                                  + "(--format json lists them all)\n"), "\(text.out)")
        #expect(text.out.contains("::error::drift \(id) from host-a: \u{2026} and 31 more not upstream under "
                                  + "worker/models/mini/"), "\(text.out)")
        #expect(lines.filter { $0.hasPrefix("::error") }.count == 21, "\(text.out)")
        let json = try drift(["gate", "--repo", f.upstream, "--ledger", ledger, "--format", "json"])
        let missing = GateLedgerTests.entries(json).first?["missing"] as? [String] ?? []
        #expect(missing.count == 51)
        let sarif = try drift(["gate", "--repo", f.upstream, "--ledger", ledger, "--format", "sarif"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(sarif.out.utf8)) as? [String: Any])
        let run = try #require((doc["runs"] as? [[String: Any]])?.first)
        let results = run["results"] as? [[String: Any]] ?? []
        #expect(sarif.code == 1 && results.count == 21, "\(results.count)")
        let last = try #require(results.last)
        #expect(((last["message"] as? [String: Any])?["text"] as? String)?.contains("31 more not upstream") == true)
        #expect("\(last["locations"] ?? "")".contains("worker/models/mini/"))
        let note = (run["properties"] as? [String: Any])?["driftNote"] as? String ?? ""
        #expect(note.contains("first 20 paths") && note.contains("--format json"), "\(note)")
        // The shared directory is whole components, and no directory is named when they share none.
        #expect(GatePathCap.commonDirectory(["a/bc/x", "a/b/y"]) == "a")
        #expect(GatePathCap.commonDirectory(["a/x", "b/y"]) == nil)
        #expect(GatePathCap.commonDirectory(["x", "y"]) == nil)
        #expect(GatePathCap.commonDirectory(["\"a\\377/x\"", "a/y"]) == nil)
        // Sharing none, the directory holding most of them is named with its count (incident 12: the
        // model's 49980 files and 2 of src/).
        let mixed = (1...20).map { "a/x\($0)" } + (1...30).map { "models/m/w\($0)" } + ["src/y1", "src/y2"]
        let rest = try #require(GatePathCap.rest(mixed))
        #expect(GatePathCap.moreLine(rest, what: "not upstream")
                == "\u{2026} and 32 more not upstream (30 under models/m/)")
    }
}

extension GateOpsTests {
    @Test("the same hotfix upstream, the file changed since: reconciled as contained; a waiver says what it hides")
    func sameHotfixElsewhere() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        // A file long enough that upstream's later edit is outside the hotfix's context.
        try sh("""
            set -e
            for i in $(seq 1 30); do echo "V$i = $i"; done > worker/util.py
            cp worker/util.py '\(f.workspace)/worker/util.py' && git commit -qam 'longer util'
            """, cwd: f.upstream)
        try f.bake()
        let fix = "sed -i 's/^V15 = 15$/V15 = 15\\nFIX = 1/' worker/util.py"
        try sh(fix, cwd: f.workspace)
        let ledger = f.dir.sub("ledger")
        let id = try GateLedgerTests.export(f, ledger + "/a")
        // Upstream made the same fix by hand, and has changed the file elsewhere since.
        let up = f.dir.sub("up")
        try sh("""
            set -e
            git clone -q '\(f.upstream)' '\(up)' && cd '\(up)'
            git checkout -q -b other
            sed -i 's/^V2 = 2$/V2 = 20/; s/^V15 = 15$/V15 = 15\\nFIX = 2/' worker/util.py
            git commit -qam 'another fix'
            git checkout -q -
            sed -i 's/^V2 = 2$/V2 = 20/' worker/util.py && \(fix) && git commit -qam 'the same fix, and more'
            """)
        let r = try drift(["gate", "--repo", up, "--ledger", ledger])
        #expect(r.code == 0 && r.out.contains("ok       drift \(id) from host-a: reconciled: its whole change is "
                                              + "already in this commit"), "\(r.out)\(r.err)")
        let j = try drift(["gate", "--repo", up, "--ledger", ledger, "--format", "json"])
        #expect(GateLedgerTests.entries(j).first?["reason"] as? String == "contained", "\(j.out)")
        // A different fix is not the same fix.
        let other = try drift(["gate", "--repo", up, "--commit", "other", "--ledger", ledger])
        #expect(other.code == 1 && other.out.contains("not upstream: worker/util.py"), "\(other.out)")
        // Waived, the code it hides is named.
        try write(f.dir.sub("waive.yaml"), "waivers:\n  - {id: \"\(id)\", reason: \"x\", expires: \"2999-01-01\"}\n")
        let waived = try drift(["gate", "--repo", up, "--commit", "other", "--ledger", ledger,
                                "--policy", f.dir.sub("waive.yaml")])
        #expect(waived.code == 0 && waived.out.contains("waiver until 2999-01-01; it also passes 1 path not upstream\n"
                                                        + "         not upstream (waived): worker/util.py\n"),
                "\(waived.out)")
    }
}
