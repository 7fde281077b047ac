import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Issue 11, point 1 (property): a name is data, never text.
@Suite("Hostile names", .serialized)
struct HostileNameTests {
    /// Names per batch and batches per run: ≥ 500 random names a run, in few processes.
    static let namesPerBatch = 256
    static let batches = 2

    @Test("random byte names: git am gives exactly the drifted code, no raw control byte in any output, gate unmoved")
    func property() throws {
        let world = try HostileWorld()
        defer { world.dir.remove() }
        // Host B's honest hotfix, exported first: its id is what A's names try to forge.
        let wsB = try world.workspace("b")
        try sh("echo 'FIX_B = 1' >> worker/util.py", cwd: wsB.root)
        let ledger = world.dir.sub("ledger")
        let eb = try world.run(["export", "--output", ledger + "/host-b"], wsB, host: "host-b")
        try #require(eb.code == 0, "export B: \(eb.err)")
        let idB = try #require(eb.out.split(separator: " ").dropFirst(2).first.map(String.init))
        var total = 0
        for batch in 0..<Self.batches {
            let seed = UInt64(Date().timeIntervalSince1970 * 1000) &+ UInt64(batch) &* 0x9E37_79B9
            total += try checkBatch(world, batch: batch, seed: seed, idB: idB, ledger: ledger)
        }
        #expect(total >= 500)
    }

    /// One workspace full of hostile names in code, data and config paths, run through every verb.
    func checkBatch(_ world: HostileWorld, batch: Int, seed: UInt64, idB: String, ledger: String) throws -> Int {
        var gen = NameGenerator(seed: seed)
        let ws = try world.workspace("a\(batch)")
        var code: [[UInt8]: [UInt8]] = [:]
        var made = 0
        for i in 0..<Self.namesPerBatch {
            let name = gen.name(index: i, driftIds: [idB, "0123456789abcdef0123"])
            let prefix = ["worker/", "packages/models/", "config/"][i % 3]
            let rel = Array(prefix.utf8) + name
            let content = Array("# file \(i) of batch \(batch)\nVALUE = \(i)\n".utf8)
            guard makeFile(root: ws.root, rel, content) else { continue }
            made += 1
            if i % 3 == 0 { code[rel] = content }
        }
        try sh("echo 'HOTFIX_A = 1' >> worker/main.py", cwd: ws.root)
        let ctx = "seed \(seed)"
        var outputs: [(String, Run)] = []
        outputs.append(("scan text", try world.run(["scan"], ws)))
        outputs.append(("scan json", try world.run(["scan", "--format", "json"], ws)))
        outputs.append(("status", try world.run(["status"], ws)))
        outputs.append(("diff", try world.run(["diff"], ws)))
        let odir = ledger + "/host-a-\(batch)"
        let ex = try world.run(["export", "--output", odir], ws)
        outputs.append(("export", ex))
        try #require(ex.code == 0, "\(ctx): export: \(ex.err)")
        let idA = try #require(ex.out.split(separator: " ").dropFirst(2).first.map(String.init))

        // git am in a fresh clone of upstream (which moved on): exactly the drifted code files.
        let clone = world.dir.sub("clone-\(batch)")
        try sh("git clone -q '\(world.upstream)' '\(clone)' && git -C '\(clone)' checkout -q HEAD~1"
               + " && git -C '\(clone)' am -q '\(odir)/drift.patch'")
        var expected = Set(try sh("git -C '\(world.upstream)' ls-tree -r --name-only HEAD~1").split(separator: "\n")
            .map { Array($0.utf8) })
        expected.formUnion(code.keys)
        let got = try trackedPaths(clone)
        #expect(got == expected, """
            \(ctx): extra \(got.subtracting(expected).map(PathBytes.display)), \
            missing \(expected.subtracting(got).map(PathBytes.display))
            """)
        for (rel, content) in code {
            #expect(readFile(root: clone, rel) == content, "\(ctx): \(PathBytes.display(rel))")
        }
        #expect(readFile(root: clone, Array("worker/main.py".utf8)).map { String(decoding: $0, as: UTF8.self) }?
            .contains("HOTFIX_A") == true)
        let trailers = Trailers(try sh("git -C '\(clone)' log -1 --format=%B"))
        #expect(trailers.values("Drift-Id") == [idA], "\(ctx): applied commit trailers \(trailers.pairs)")

        // The gate: A reconciled by its trailer, B still missing, whatever A's names say.
        let up = world.dir.sub("gate-up-\(batch)")
        try sh("git clone -q --bare '\(clone)' '\(up)'")
        let gha = ["GITHUB_ACTIONS": "true"]
        let gText = try drift(["gate", "--repo", up, "--ledger", ledger], env: gha)
        let gJSON = try drift(["gate", "--repo", up, "--ledger", ledger, "--format", "json"])
        let gSarif = try drift(["gate", "--repo", up, "--ledger", ledger, "--format", "sarif"])
        outputs += [("gate text", gText), ("gate json", gJSON), ("gate sarif", gSarif)]
        #expect(gText.code == 1 && gJSON.code == 1, "\(ctx): \(gText.out) \(gText.err)")
        let report = (try? JSONSerialization.jsonObject(with: Data(gJSON.out.utf8))) as? [String: Any] ?? [:]
        let entries = report["entries"] as? [[String: Any]] ?? []
        let status = Dictionary(entries.map {
            ($0["id"] as? String ?? "", $0["status"] as? String ?? "")
        }) { a, _ in a }
        #expect(status[idA] == "reconciled" && status[idB] == "missing", "\(ctx): \(status)")
        // Workflow commands only count at the start of a line: only the gate's own may be there
        // (a path's, and past the per-entry cap one on no file counting the rest: GateOutput.more).
        let commands = gText.out.split(separator: "\n").filter { $0.hasPrefix("::") }
        let own = { (c: Substring) in
            c.hasPrefix("::error file=") || (c.hasPrefix("::error::drift ") && c.contains(" more not upstream"))
        }
        #expect(commands.allSatisfy(own),
                "\(ctx): \(commands.filter { !$0.hasPrefix("::error file=") }.prefix(3))")
        for (verb, r) in outputs {
            let bad = rawControlLines(r.out) + rawControlLines(r.err)
            #expect(bad.isEmpty, "\(ctx): \(verb) printed raw control bytes: \(bad.prefix(3))")
        }
        return made
    }
}
