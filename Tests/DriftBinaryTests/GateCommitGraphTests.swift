import Foundation
import Testing
@testable import DriftGit
@testable import DriftSystem

/// The gate and a commit-graph file in the repository (issue 27): `git gc` and `git maintenance`
/// write `objects/info/commit-graph`; the gate never reads it (libgit2 1.5 would hash all of it on
/// every run, then trust what it says over the commits).
@Suite("Gate and commit-graph files")
struct GateCommitGraphTests {
    /// Rewrites a generation-1 commit-graph so that `commit` has no parent, with a valid checksum:
    /// a reader that trusts the graph loses the commit's whole history.
    static func cutParents(graph path: String, commit: ObjectID, in dir: TempDir) throws {
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func be(_ o: Int, _ n: Int) -> Int { b[o..<(o + n)].reduce(0) { $0 << 8 | Int($1) } }
        var chunks: [String: Int] = [:]
        for i in 0...Int(b[6]) {
            let o = 8 + 12 * i
            chunks[String(decoding: b[o..<(o + 4)], as: UTF8.self)] = be(o + 4, 8)
        }
        let lookup = try #require(chunks["OIDL"])
        let data = try #require(chunks["CDAT"])
        // OIDL is followed by CDAT: one 20-byte id a commit, sorted.
        let index = try #require((0..<((data - lookup) / 20)).first {
            Array(b[(lookup + 20 * $0)..<(lookup + 20 * $0 + 20)]) == commit.raw
        })
        let parent = data + 36 * index + 20
        b.replaceSubrange(parent..<(parent + 4), with: [0x70, 0, 0, 0])
        let sum = try PackCraft.sha1(Array(b.dropLast(20)), in: dir)
        b.replaceSubrange((b.count - 20)..<b.count, with: sum)
        try sh("chmod u+w '\(path)'")
        try Data(b).write(to: URL(fileURLWithPath: path))
    }

    @Test("a commit-graph (current, generation 1, or damaged) changes no verdict: the gate reads the commits")
    func commitGraphIgnored() throws {
        let (f, ledger) = try GateTests.exported()
        defer { f.dir.remove() }
        // The fix goes in with git am (its Drift-Id trailer), then two more commits.
        let up = f.dir.sub("up")
        try sh("git clone -q '\(f.upstream)' '\(up)' && cd '\(up)' && git am -q '\(ledger)/host-a/1/drift.patch'"
               + " && git commit -q --allow-empty -m one && git commit -q --allow-empty -m two")
        func verdict() throws -> (Int32, String?) {
            let r = try drift(["gate", "--repo", up, "--ledger", ledger, "--format", "json"])
            return (r.code, GateLedgerTests.entries(r).first?["reason"] as? String)
        }
        let plain = try verdict()
        #expect(plain.0 == 0 && plain.1 != nil, "\(plain)")
        let graph = up + "/.git/objects/info/commit-graph"

        // What git gc writes today (generation data, GDA2: libgit2 1.5 rejects it after hashing it).
        try sh("git commit-graph write --reachable --no-progress", cwd: up)
        #expect(FileManager.default.fileExists(atPath: graph))
        #expect(try verdict() == plain)

        // A generation-1 graph libgit2 1.5 would use, then the same graph saying HEAD has no parent:
        // git believes it (one commit in HEAD's history); the gate still judges the commits.
        try sh("rm -f '\(graph)' && git -c commitGraph.generationVersion=1 commit-graph write --reachable"
               + " --no-progress", cwd: up)
        #expect(try verdict() == plain)
        let head = try #require(ObjectID(hex: try sh("git rev-parse HEAD", cwd: up)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        try Self.cutParents(graph: graph, commit: head, in: f.dir)
        #expect(try sh("git rev-list --count HEAD", cwd: up).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try verdict() == plain)
    }
}
