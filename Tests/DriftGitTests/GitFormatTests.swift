import DriftTestSupport
import Foundation
import Testing
@testable import DriftGit
@testable import DriftSystem

/// Each git format drift reads has its reader beside its writer in DriftGit, and `git` is the
/// oracle: bundles (`git bundle verify`), trees from libgit2's tree builder (`git mktree`),
/// and the one safe-path rule the gate applies to trees and patches alike.
@Suite struct GitFormatTests {
    /// A repository with one base commit and one child, the shape of an export.
    struct Repo {
        let dir: TempDir
        let repo: GitRepository
        let base: ObjectID
        let tip: ObjectID

        init() throws {
            dir = try TempDir("gitformat")
            let path = dir.sub("r.git")
            repo = try GitRepository(initBare: path)
            let me = GitPerson(name: "t", email: "t@e", time: Date(timeIntervalSince1970: 1_700_000_000))
            let a = try repo.writeTree([.init(name: Array("a.py".utf8), mode: .blob, id: repo.writeBlob([0x31]))])
            base = try repo.createCommit(tree: a, parents: [], author: me, committer: me, message: "base\n")
            let b = try repo.updateTree(a, [TreeUpdate(path: Array("b.py".utf8),
                                                       action: .upsert(try repo.writeBlob([0x32]), mode: .blob))])
            tip = try repo.createCommit(tree: b, parents: [base], author: me, committer: me, message: "drift\n")
        }

        func git(_ args: String) throws -> String { try sh("git --git-dir='\(dir.sub("r.git"))' \(args)") }
    }

    @Test("a bundle GitBundle.make writes is one git verifies, and readHeader reads back what was written")
    func bundleRoundTrip() throws {
        let r = try Repo()
        defer { r.dir.remove() }
        let objects = try r.repo.newObjects(try r.repo.treeOf(commit: r.tip),
                                            comparedTo: try r.repo.treeOf(commit: r.base))
        let pack = try r.repo.pack(objects + [r.tip])
        let ref = "refs/heads/drift/0123456789abcdef0123"
        let bytes = GitBundle.make(prerequisite: r.base, comment: "base", tip: r.tip, ref: ref, pack: pack)
        try Data(bytes).write(to: URL(fileURLWithPath: r.dir.sub("x.bundle")))
        let verify = try run(["git", "--git-dir=" + r.dir.sub("r.git"), "bundle", "verify", r.dir.sub("x.bundle")])
        #expect(verify.code == 0, "\(verify.err)")
        let h = try GitBundle.readHeader(bytes)
        #expect(h.prerequisites == [r.base])
        #expect(h.refs == [GitBundle.Header.Ref(tip: r.tip, name: ref)])
        #expect(Array(bytes[h.packOffset..<(h.packOffset + 4)]) == Array("PACK".utf8))
        // git's own bundle (two refs, no prerequisite) reads the same way.
        _ = try r.git("update-ref refs/heads/main \(r.tip.hex)")
        _ = try r.git("bundle create '\(r.dir.sub("g.bundle"))' refs/heads/main \(r.base.hex)..\(r.tip.hex) "
                      + "2>&1 || true")
        let own = try GitBundle.readHeader(Array(try Data(contentsOf: URL(fileURLWithPath: r.dir.sub("g.bundle")))))
        #expect(own.refs.map(\.name) == ["refs/heads/main"])
        #expect(own.prerequisites == [r.base])
    }

    @Test("readHeader names the first thing that is not a v2 bundle", arguments: [
        ("", GitBundle.ReadError.truncatedHeader),
        ("# v3 git bundle\n\nPACK", .notVersion2),
        ("# v2 git bundle\n-zz base\n\n", .badPrerequisite(line: 2)),
        ("# v2 git bundle\n-\(String(repeating: "a", count: 40))x\n\n", .badPrerequisite(line: 2)),
        ("# v2 git bundle\n\(String(repeating: "a", count: 40))\n\n", .badRef(line: 2)),
        ("# v2 git bundle\n\(String(repeating: "a", count: 40)) refs/heads/x y\n\n", .badRef(line: 2)),
        ("# v2 git bundle\n\(String(repeating: "a", count: 40)) refs/heads/x\n\nPACK", .noPack),
        ("# v2 git bundle\n" + String(repeating: "\(String(repeating: "b", count: 40)) refs/x\n", count: 16) + "\n",
         .headerTooLong(maxLines: 16)),
    ])
    func bundleErrors(text: String, expected: GitBundle.ReadError) {
        #expect(throws: expected) { try GitBundle.readHeader(Array(text.utf8)) }
    }

    @Test("writeTree is libgit2's tree builder: git mktree writes the same id; a name git refuses throws")
    func treeBuilder() throws {
        let r = try Repo()
        defer { r.dir.remove() }
        let blob = try r.repo.writeBlob(Array("x\n".utf8))
        // Given out of order: the builder sorts as git does (`a.b` before `a/`, a directory as `a/`).
        let sub = try r.repo.writeTree([.init(name: Array("f".utf8), mode: .blob, id: blob)])
        let tree = try r.repo.writeTree([
            .init(name: Array("report.json".utf8), mode: .blob, id: blob),
            .init(name: Array("a".utf8), mode: .tree, id: sub),
            .init(name: Array("a.b".utf8), mode: .executable, id: blob),
            .init(name: Array("drift.bundle".utf8), mode: .blob, id: blob),
        ])
        let listing = """
            100644 blob \(blob.hex)\treport.json
            040000 tree \(sub.hex)\ta
            100755 blob \(blob.hex)\ta.b
            100644 blob \(blob.hex)\tdrift.bundle

            """
        let mktree = try run(["/bin/sh", "-c", "printf '%s' \"$L\" | git --git-dir='\(r.dir.sub("r.git"))' mktree"],
                             env: ["L": listing])
        #expect(mktree.out.trimmingCharacters(in: .whitespacesAndNewlines) == tree.hex)
        for bad in [".git", ".GIT", "a/b", "..", "", "x\u{0}y"] {
            #expect(throws: GitError.self, "\(bad)") {
                try r.repo.writeTree([.init(name: Array(bad.utf8), mode: .blob, id: blob)])
            }
        }
    }

    @Test("one safe-path rule: tree paths and patch paths are refused alike, every .git spelling included")
    func safePaths() throws {
        let refused = ["/etc/passwd", "../x", "a/../../x", "a//b", "./a", ".git/config", ".GIT/hooks/pre-commit",
                      "sub/.Git/config", ".git./config", ".git /config", "GIT~1/config", "a/\u{200C}.git/config", ""]
        for p in refused { #expect(!GitNames.isSafePath(Array(p.utf8)), "\(p)") }
        for p in ["a.py", "src/.gitignore", "x/.github/ci.yml", "caf\u{E9}/\u{FF}", ".gitx/y"] {
            #expect(GitNames.isSafePath(Array(p.utf8)), "\(p)")
        }
        // The patch reader applies the same rule to every header path it finds.
        func patch(_ path: String) -> [UInt8] {
            let text = "diff --git a/\(path) b/\(path)\nnew file mode 100644\n--- /dev/null\n"
                + "+++ b/\(path)\n@@ -0,0 +1 @@\n+x\n"
            return Array(text.utf8)
        }
        for p in refused where !p.isEmpty && !p.contains(" ") {
            #expect(throws: PatchPaths.Problem.self, "\(p)") { try PatchPaths.check(patch(p)) }
        }
        #expect(throws: Never.self) { try PatchPaths.check(patch("src/.gitignore")) }
    }
}
