import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Issue 21, point 1: no name can stop a scan. A `.git` in the workspace (in any spelling git
/// refuses) is ignored by the default policy, and whatever a policy says, a path git cannot
/// store is withheld by name while every other change is journaled and exported.
@Suite("Names git cannot store")
struct GitNameTests {
    /// The spellings the issue saw, plus an HFS one (a zero-width non-joiner inside `.git`).
    static let spellings = [".git", ".GIT", "GIT~1", "git~1", ".git.", ".git ", ".g\u{200C}it"]

    @Test("libgit2 decides: every .git spelling is refused, look-alikes git tracks are not")
    func libgitVerdicts() {
        for s in Self.spellings {
            #expect(!GitNames.isStorableName(Array(s.utf8)), "\(s)")
            #expect(!GitNames.isStorable(Array("a/\(s)/b.py".utf8)), "\(s)")
        }
        for s in [".gitignore", ".github", "git", "x.git", "gitx", ".gitmodules", "GIT~2x", "normal"] {
            #expect(GitNames.isStorableName(Array(s.utf8), mode: .blob), "\(s)")
        }
        #expect(GitNames.isStorable(Array("a/b/c.py".utf8)))
    }

    /// The hotfix every test makes: one modified and one added code file.
    static func hotfix(_ f: Fixture) throws {
        try write(f.workspace + "/worker/util.py", "def helper(x):\n    return x + 2\n")
        try write(f.workspace + "/worker/new.py", "NEW = 1\n")
    }

    /// `git am` of the export into a clone of upstream; returns the paths the commit touched.
    static func amPaths(_ f: Fixture, _ out: String) throws -> [String] {
        let clone = f.dir.sub("clone-\(UUID().uuidString.prefix(8))")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && git -C '\(clone)' am -q '\(out)/drift.patch'")
        try sh("git -C '\(clone)' fsck --strict --no-progress")
        return try sh("git -C '\(clone)' diff --name-only HEAD~1 HEAD").split(separator: "\n").map(String.init)
    }

    static func export(_ f: Fixture, _ name: String = "out") throws -> (Run, String) {
        let out = f.dir.sub(name)
        let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        return (r, out)
    }

    @Test("git init && git add -A && git commit in the workspace, a submodule and a worktree link: every verb works")
    func gitInitInWorkspace() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = f.workspace
        try sh("""
            git init -q -b main . && git add -A && git commit -qm 'track my changes'
            git -c protocol.file.allow=always submodule -q add '\(f.upstream)' vendor/lib
            git commit -qm sub
            git -C '\(f.upstream)' worktree add -q '\(w)/wt' -b side
            """, cwd: w)
        try Self.hotfix(f)
        let (scan, report) = try f.scan()
        #expect(scan.code == 1, "\(scan.err)")
        let paths = changes(report).keys
        #expect(!paths.contains { $0.contains(".git/") || $0.hasSuffix("/.git") || $0 == ".git" }, "\(paths)")
        #expect(paths.contains("worker/new.py"))
        // The submodule's and worktree's files are ordinary drift; their .git links are not.
        #expect(paths.contains("vendor/lib/worker/main.py"))
        #expect(paths.contains("wt/worker/main.py"))
        let diff = try drift(["diff", "--manifest", f.mdir, "--state", f.state])
        #expect(diff.code != 2, "\(diff.err)")
        #expect(diff.out.contains("worker/new.py"))
        #expect(!diff.out.contains(".git/"))
        let (exp, out) = try Self.export(f)
        #expect(exp.code == 0, "\(exp.err)")
        let am = try Self.amPaths(f, out)
        #expect(am.contains("worker/new.py") && am.contains("worker/util.py"))
        #expect(am.contains(".gitmodules"))
        #expect(!am.contains { $0.contains(".git/") || $0.hasSuffix("/.git") }, "\(am)")

        // watch takes the same tree: its first scan records, and it stays up.
        let watch = try WatchProcess(f)
        defer { watch.kill() }
        try watch.waitReady(timeout: 60)
        #expect(!watch.stderr.contains("invalid name"), "\(watch.stderr)")
        #expect(watch.terminate() == 0, "\(watch.stderr)")
    }

    @Test("a bake with --repo inside the root: the repository's .git is git's own, never drift")
    func bakeRepoInsideRoot() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let root = dir.sub("workspace")
        try write(root + "/app/main.py", "print('v1')\n")
        try write(root + "/README.md", "hi\n")
        try sh("git init -q -b main . && git add -A && git commit -qm base", cwd: root)
        let mdir = dir.sub("mdir"), state = dir.sub("state")
        let bake = try drift(["manifest", "create", "--root", root, "--repo", root, "--output", mdir])
        #expect(bake.code == 0, "\(bake.err)")
        var scan = try drift(["scan", "--manifest", mdir, "--state", state])
        #expect(scan.code == 0, "\(scan.out)\(scan.err)")
        // On-call commits a hotfix in that repository: .git/ churns, the code change is drift.
        try write(root + "/app/main.py", "print('v2')\n")
        try sh("git commit -qam hotfix && git gc -q", cwd: root)
        scan = try drift(["scan", "--manifest", mdir, "--state", state, "--format", "json"])
        #expect(scan.code == 1, "\(scan.err)")
        let report = (try? JSONSerialization.jsonObject(with: Data(scan.out.utf8))) as? [String: Any] ?? [:]
        #expect(changes(report) == ["app/main.py": "modified"])
    }

    /// A workspace with a code file under every spelling, at the top and nested, plus a `.git` file.
    static func plantSpellings(_ w: String) throws {
        for (i, s) in Self.spellings.enumerated() {
            try write(w + "/\(s)/evil\(i).py", "EVIL = \(i)\n")
            try write(w + "/worker/\(s)/hooks/evil\(i).py", "EVIL = \(i)\n")
        }
        try write(w + "/sub/.git", "gitdir: /elsewhere/.git/worktrees/sub\n")
        try write(w + "/sub/code.py", "X = 1\n")
    }

    @Test("every spelling, default policy: ignored; scan, diff, export and git am agree on the rest")
    func spellingsDefaultPolicy() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try Self.plantSpellings(f.workspace)
        try Self.hotfix(f)
        let (scan, report) = try f.scan()
        #expect(scan.code == 1, "\(scan.err)")
        #expect(Set(changes(report).keys) == ["worker/new.py", "worker/util.py", "sub/", "sub/code.py"]
            || Set(changes(report).keys) == ["worker/new.py", "worker/util.py", "sub/code.py"], "\(changes(report))")
        let (exp, out) = try Self.export(f)
        #expect(exp.code == 0, "\(exp.err)")
        #expect(Set(try Self.amPaths(f, out)) == ["worker/new.py", "worker/util.py", "sub/code.py"])
    }

    @Test("every spelling, a policy that does not ignore them: withheld by name, the rest exported")
    func spellingsWithheld() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let policy = f.dir.sub("policy.yaml")
        try write(policy, String(decoding: PackageResources.default_yaml, as: UTF8.self)
            .replacingOccurrences(of: "ignore_git_dirs: true", with: "ignore_git_dirs: false"))
        try f.bake(["--policy", policy])
        try Self.plantSpellings(f.workspace)
        try Self.hotfix(f)
        let (scan, report) = try f.scan()
        #expect(scan.code == 1, "\(scan.err)")
        #expect(changes(report)["GIT~1/evil2.py"] == "added")
        let diff = try drift(["diff", "--manifest", f.mdir, "--state", f.state])
        #expect(diff.code != 2, "\(diff.err)")
        let line = diff.out.split(separator: "\n").first { $0.contains("GIT~1/evil2.py: added") } ?? ""
        #expect(line.hasSuffix("(name git cannot store)"), "\(diff.out)")
        let (exp, out) = try Self.export(f)
        #expect(exp.code == 0, "\(exp.err)")
        #expect(Set(try Self.amPaths(f, out)) == ["worker/new.py", "worker/util.py", "sub/code.py"])
        let patch = try String(contentsOfFile: out + "/drift.patch", encoding: .utf8)
        #expect(patch.contains("name git cannot store"))
        #expect(!patch.contains("EVIL ="))
    }

    @Test("property: random trees of refused names mixed with normal drift; every verb exits 0/1/3, git am exact")
    func randomRefusedNames() throws {
        var rng = SystemRandomNumberGenerator()
        let pieces = Self.spellings + ["a", "b", "pkg", ".gitignore", "gitx", "Git~1x"]
        for round in 0..<3 {
            let f = try Fixture()
            defer { f.dir.remove() }
            let policy = f.dir.sub("policy.yaml")
            let ignoreGit = round % 2 == 0
            try write(policy, String(decoding: PackageResources.default_yaml, as: UTF8.self)
                .replacingOccurrences(of: "ignore_git_dirs: true", with: "ignore_git_dirs: \(ignoreGit)"))
            try f.bake(["--policy", policy])
            var normal: Set<String> = []
            for i in 0..<25 {
                let depth = Int.random(in: 1...3, using: &rng)
                let dirs = (0..<depth).map { _ in pieces.randomElement(using: &rng) ?? "a" }
                let path = (dirs + ["f\(i).py"]).joined(separator: "/")
                try write(f.workspace + "/" + path, "V = \(i)\n")
                if GitNames.isStorable(Array(path.utf8)) { normal.insert(path) }
            }
            try Self.hotfix(f)
            normal.formUnion(["worker/new.py", "worker/util.py"])
            let (scan, _) = try f.scan()
            #expect([0, 1, 3].contains(scan.code), "\(scan.err)")
            let diff = try drift(["diff", "--manifest", f.mdir, "--state", f.state])
            #expect([0, 1, 3].contains(diff.code), "\(diff.err)")
            let (exp, out) = try Self.export(f)
            #expect([0, 1, 3].contains(exp.code), "\(exp.err)")
            #expect(Set(try Self.amPaths(f, out)) == normal)
        }
    }
}
