import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Follow-up export chains (INTERFACES.md) as the gate reads them, and `drift prune`.
@Suite("Gate chains and prune")
struct GateChainTests {
    /// A chain built with git plumbing, as `drift export` writes one: C1 on the base (a.py,
    /// c.py), C2 following it (a.py again, b.py), each with its own Drift-Id; a bundle per export,
    /// the second carrying the whole chain over the one prerequisite, the base.
    struct Chain {
        var base: String
        var c1: String
        var c2: String
        var id1: String
        var id2: String
    }

    static func chain(_ f: Fixture, ledger: String, follows: String? = nil) throws -> Chain {
        let forge = f.dir.sub("forge")
        try sh("git clone -q '\(f.upstream)' '\(forge)'")
        let base = try sh("git -C '\(forge)' rev-parse HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        func tree(_ files: [String: String]) throws -> String {
            for (p, c) in files { try write(forge + "/" + p, c) }
            return try sh("git add -A && git write-tree", cwd: forge).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func commit(_ tree: String, parent: String, id: String, follows: String?) throws -> String {
            let trailer = follows.map { "Drift-Follows: \($0)\n" } ?? ""
            let msg = "hotfix\n\nDrift-Host: chain-host\nDrift-Id: \(id)\nDrift-Base: \(base)\n\(trailer)"
            try write(f.dir.sub("msg"), msg)
            return try sh("git commit-tree \(tree) -p \(parent) -F '\(f.dir.sub("msg"))'", cwd: forge)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func id(_ tree: String) throws -> String {
            try DriftID.compute(base: try #require(ObjectID(hex: base)), tree: try #require(ObjectID(hex: tree)),
                                inputs: []).hex
        }
        let t1 = try tree(["worker/a.py": "A = 1\n", "worker/c.py": "C = 1\n"])
        let id1 = try id(t1)
        let c1 = try commit(t1, parent: base, id: id1, follows: nil)
        let t2 = try tree(["worker/a.py": "A = 2\n", "worker/b.py": "B = 1\n"])
        let id2 = try id(t2)
        let c2 = try commit(t2, parent: c1, id: id2, follows: follows ?? id1)
        try sh("""
            set -e
            git update-ref refs/heads/drift/\(id1) \(c1) && git update-ref refs/heads/drift/\(id2) \(c2)
            mkdir -p '\(ledger)/e1' '\(ledger)/e2'
            git bundle create -q '\(ledger)/e1/drift.bundle' refs/heads/drift/\(id1) ^\(base)
            git bundle create -q '\(ledger)/e2/drift.bundle' refs/heads/drift/\(id2) ^\(base)
            """, cwd: forge)
        return Chain(base: base, c1: c1, c2: c2, id1: id1, id2: id2)
    }

    static func verdicts(_ r: Run) -> [String: String] {
        var out: [String: String] = [:]
        for e in GateLedgerTests.entries(r) {
            out[e["id"] as? String ?? "?"] = "\(e["status"] ?? "?")/\(e["reason"] ?? "-")"
        }
        return out
    }

    @Test("a chain: each id reconciled on its own; a superseded entry is judged by what is still different")
    func followUpChain() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let ledger = f.dir.sub("ledger")
        let c = try Self.chain(f, ledger: ledger)
        let forge = f.dir.sub("forge")
        func gate(_ repo: String) throws -> Run {
            try drift(["gate", "--repo", repo, "--ledger", ledger, "--format", "json"])
        }
        // Nothing upstream: both missing; the first export owes only c.py (the follow-up changed
        // a.py again, and is judged for it).
        let none = try gate(f.upstream)
        #expect(none.code == 1 && Self.verdicts(none) == [c.id1: "missing/-", c.id2: "missing/-"], "\(none.out)")
        let first1 = GateLedgerTests.entries(none).first { $0["id"] as? String == c.id1 }
        #expect(first1?["missing"] as? [String] == ["worker/c.py"] && first1?["superseded_by"] as? String == c.id2)
        // The first export merged with git am: its id alone is reconciled.
        let up = f.dir.sub("up")
        try sh("git clone -q '\(f.upstream)' '\(up)'")
        try sh("git -C '\(forge)' format-patch -q --stdout -1 \(c.c1) | git am -q", cwd: up)
        let first = try gate(up)
        #expect(first.code == 1 && Self.verdicts(first) == [c.id1: "reconciled/trailer", c.id2: "missing/-"],
                "\(first.out)")
        // The follow-up's patch applies on top of it: both by their own trailers.
        try sh("git -C '\(forge)' format-patch -q --stdout -1 \(c.c2) | git am -q", cwd: up)
        let both = try gate(up)
        #expect(both.code == 0 && Self.verdicts(both) == [c.id1: "reconciled/trailer", c.id2: "reconciled/trailer"],
                "\(both.out)")
        // Upstream takes the latest state by hand: the follow-up by content, the first superseded.
        let hand = f.dir.sub("hand")
        try sh("git clone -q '\(f.upstream)' '\(hand)' && cd '\(hand)' && git fetch -q '\(forge)' \(c.c2)"
               + " && git checkout -q \(c.c2) -- worker"
               + " && git commit -qm 'by hand'")
        #expect(Self.verdicts(try gate(hand)) == [c.id1: "reconciled/content", c.id2: "reconciled/content"])
        // The follow-up reverted c.py by hand later (a third export, C3): the first export owes
        // nothing any more, and says so.
        try sh("git rm -q -f worker/c.py", cwd: forge)
        let t3 = try sh("git write-tree", cwd: forge).trimmingCharacters(in: .whitespacesAndNewlines)
        let id3 = try DriftID.compute(base: try #require(ObjectID(hex: c.base)), tree: try #require(ObjectID(hex: t3)),
                                      inputs: [])
        try write(f.dir.sub("msg3"), "drop c\n\nDrift-Host: chain-host\nDrift-Id: \(id3)\nDrift-Follows: \(c.id2)\n")
        try sh("""
            set -e
            c3=$(git commit-tree \(t3) -p \(c.c2) -F '\(f.dir.sub("msg3"))')
            git update-ref refs/heads/drift/\(id3) $c3 && mkdir -p '\(ledger)/e3'
            git bundle create -q '\(ledger)/e3/drift.bundle' refs/heads/drift/\(id3) ^\(c.base)
            """, cwd: forge)
        let three = try drift(["gate", "--repo", f.upstream, "--ledger", ledger])
        #expect(three.code == 1 && three.out.contains("ok       drift \(c.id1) from chain-host: superseded by drift "
                                                        + id3.hex), "\(three.out)")
    }

    @Test("a chain whose Drift-Follows does not name its parent's id is bad input")
    func brokenChain() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let ledger = f.dir.sub("ledger")
        _ = try Self.chain(f, ledger: ledger, follows: "0123456789abcdef0123")
        let r = try drift(["gate", "--repo", f.upstream, "--ledger", ledger])
        #expect(r.code == 2 && r.err.contains("ledger entry e2: its commit is not a child of its base"), "\(r.err)")
    }

    @Test("prune deletes only refs reconciled in REV and older than the age; dry run first; gate still accepts")
    func prune() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let idA = try GateLedgerTests.export(f, f.dir.sub("out-a"), host: "host-a")
        try GateLedgerTests.fetchLedger(f, id: idA, into: f.upstream, as: "refs/drift/host-a/\(idA)")
        try sh("echo 'NEW = 1' > worker/new.py", cwd: f.workspace)
        let stateB = f.dir.sub("state-b")
        let idB = try GateLedgerTests.export(f, f.dir.sub("out-b"), host: "host-b", state: stateB)
        try GateLedgerTests.fetchLedger(f, id: idB, into: f.upstream, as: "refs/drift/host-b/\(idB)", state: stateB)
        // host-a's hotfix is merged; host-b's (util.py and new.py) is not.
        try sh("git am -q '\(f.dir.sub("out-a"))/drift.patch'", cwd: f.upstream)
        func refs() throws -> [String] {
            try sh("git -C '\(f.upstream)' for-each-ref --format='%(refname)' refs/drift/").split(separator: "\n")
                .map(String.init)
        }
        let all = try refs()
        #expect(all.count == 2)
        let prune = ["prune", "--repo", f.upstream, "--commit", "main"]
        let young = try drift(prune + ["--older-than", "3650d"])
        #expect(young.code == 0 && young.out.contains("prune: deleted 0 of 2 ledger refs"), "\(young.out)\(young.err)")
        #expect(try refs() == all)
        let dry = try drift(prune + ["--older-than", "0s", "--dry-run"])
        #expect(dry.code == 0 && dry.out.contains("would delete refs/drift/host-a/\(idA)")
            && dry.out.contains("kept         refs/drift/host-b/\(idB) (drift \(idB) from host-b): "
                                + "missing, not reconciled"),
            "\(dry.out)\(dry.err)")
        #expect(!dry.out.contains(": kept:"), "the word kept once a line: \(dry.out)")
        #expect(try refs() == all)
        let names = try drift(prune + ["--older-than", "0s", "--dry-run", "--format", "refs"])
        #expect(names.out == "refs/drift/host-a/\(idA)\n")
        let done = try drift(prune + ["--older-than", "0s"])
        #expect(done.code == 0 && done.out.contains("deleted      refs/drift/host-a/\(idA)"), "\(done.out)")
        #expect(try refs() == ["refs/drift/host-b/\(idB)"])
        let gate = try drift(["gate", "--repo", f.upstream, "--ledger-refs"])
        #expect(gate.code == 1 && gate.out.contains("MISSING  drift \(idB)") && !gate.out.contains(idA), "\(gate.out)")
        // Once host-b's drift is merged too, prune empties the ledger and the gate accepts.
        try sh("git am -q -3 '\(f.dir.sub("out-b"))/drift.patch'", cwd: f.upstream)
        #expect(try drift(prune + ["--older-than", "0s"]).code == 0)
        #expect(try refs().isEmpty)
        #expect(try drift(["gate", "--repo", f.upstream, "--ledger-refs"]).code == 0)
    }

    @Test("push over file:// writes the ledger commit and ref into the remote directly; a re-push is a no-op")
    func pushFile() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let id = try GateLedgerTests.export(f, f.dir.sub("out"), host: "file-host")
        let remote = f.dir.sub("remote.git")
        try sh("git clone -q --bare '\(f.upstream)' '\(remote)' && cd '\(remote)'"
               + " && for i in $(seq 1 50); do git update-ref refs/drift/h$i/000000000000000000$i HEAD; done")
        let push = ["push", "file://" + remote, "--manifest", f.mdir, "--state", f.state]
        let first = try drift(push, env: ["DRIFT_HOST": "file-host"])
        #expect(first.code == 0 && first.out.contains("refs/drift/file-host/\(id)"), "\(first.out)\(first.err)")
        #expect(try sh("git --git-dir='\(remote)' fsck --strict 2>&1").isEmpty)
        let commit = try sh("git --git-dir='\(remote)' cat-file -p refs/drift/file-host/\(id)")
        #expect(!commit.contains("\nparent ") && commit.contains("Drift-Ledger: 1"), "\(commit)")
        let gate = try drift(["gate", "--repo", remote, "--ledger-refs", "--ledger-ref-prefix", "refs/drift/file-host"])
        #expect(gate.code == 1 && gate.out.contains("MISSING  drift \(id) from file-host"), "\(gate.out)\(gate.err)")
        // Another state dir that never pushed finds the ref there and sends nothing.
        let again = f.dir.sub("state-again")
        try sh("cp -a '\(f.state)' '\(again)'")
        try sh("git --git-dir='\(remote)' update-ref refs/drift/file-host/\(id) HEAD")
        let second = try drift(["push", "file://" + remote, "--manifest", f.mdir, "--state", again])
        #expect(second.code == 0)
        #expect(try sh("git --git-dir='\(remote)' rev-parse refs/drift/file-host/\(id)")
            == (try sh("git --git-dir='\(remote)' rev-parse HEAD")), "an existing ref is never overwritten")
    }
}
