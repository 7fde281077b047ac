import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12, points 2 and 4: paths of any length, files that become directories and back.
@Suite("Containment: tree shapes")
struct ShapeTests {
    /// A clone of upstream with the exported bundle fetched and the patch applied to its index.
    static func checkExport(_ f: Fixture, _ out: String, expectPaths: [String], absent: [String] = []) throws {
        let c = f.dir.sub("check-\(UInt32.random(in: 0...UInt32.max))")
        try sh("git clone -q '\(f.upstream)' '\(c)'"
               + " && git -C '\(c)' fetch -q '\(out)/drift.bundle' 'refs/heads/drift/*:refs/heads/got/*'")
        let tree = try sh("git -C '\(c)' ls-tree -r --name-only"
                          + " $(git -C '\(c)' for-each-ref --format='%(refname)' refs/heads/got | head -1)")
        let names = Set(tree.split(separator: "\n").map(String.init))
        for p in expectPaths { #expect(names.contains(p), "bundle tree lacks \(p.prefix(60))…") }
        for p in absent { #expect(!names.contains(p), "bundle tree still has \(p)") }
        let applied = try run(["git", "-C", c, "apply", "--cached", out + "/drift.patch"])
        #expect(applied.code == 0, "\(applied.err)")
        let index = Set(try sh("git -C '\(c)' ls-files").split(separator: "\n").map(String.init))
        for p in expectPaths { #expect(index.contains(p)) }
    }

    @Test("a 6,000-byte path is hashed, journaled and exported (bundle tree and git apply --cached)")
    func longPath() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let part = String(repeating: "d", count: 199)
        // Built one component at a time: no tool can name it whole.
        let py = "import os\nfd = os.open('.', os.O_RDONLY)\nfor i in range(1, 31):\n"
            + "    n = '\(part)' + str(i)\n    os.mkdir(n, dir_fd=fd)\n    fd = os.open(n, os.O_RDONLY, dir_fd=fd)\n"
            + "w = os.open('hot.py', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)\nos.write(w, b'deep = 1\\n')\n"
        try sh("python3 -c \"$PY\"", cwd: f.workspace, env: ["PY": py])
        let rel = (1...30).map { part + "\($0)" }.joined(separator: "/") + "/hot.py"
        #expect(rel.utf8.count > 6_000)
        let (r, j) = try f.scan()
        #expect(r.code == 1, "\(r.err)")
        #expect(changes(j)[rel] == "added")
        #expect(j["complete"] as? Bool == true)
        #expect((j["errors"] as? [Any])?.isEmpty == true, "\(j["errors"] ?? "")")
        let out = f.dir.sub("out")
        let e = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        #expect(e.code == 0, "\(e.err)")
        let journal = try sh("git --git-dir='\(f.state)/journal.git' ls-tree -r --name-only refs/heads/journal")
        #expect(journal.contains(rel))
        try Self.checkExport(f, out, expectPaths: [rel])
    }

    @Test("a scan that could not read something is never clean: complete false, text says so, exit 3")
    func incompleteIsNotClean() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("chmod -R a+rX '\(f.dir.path)' && chmod 000 worker && mkdir -p '\(f.state)' && chown 65534 '\(f.state)'",
               cwd: f.workspace)
        defer { _ = try? sh("chmod 755 worker", cwd: f.workspace) }
        let asNobody = getuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        let base = asNobody + [driftBinary(), "scan", "--manifest", f.mdir, "--state", f.state]
        let r = try run(base + ["--format", "json"])
        #expect(r.code == 3, "\(r.err)")
        let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] ?? [:]
        #expect(j["clean"] as? Bool == false)
        #expect(j["complete"] as? Bool == false)
        let t = try run(base)
        #expect(t.code == 3)
        #expect(t.out.hasPrefix("INCOMPLETE:"), "\(t.out)")
        #expect(!t.out.hasPrefix("clean"))
    }

    @Test("file → directory and directory → file, at depth: recorded, diffed, exported, and git am gives the tree")
    func fileDirectoryFlips() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("mkdir -p deep/er/pkg && echo 'a = 1' > deep/er/a.py && echo 'b = 1' > deep/er/pkg/b.py"
               + " && echo 'c = 1' > deep/er/pkg/c.py && git add -A && git commit -qm 'deep tree'"
               + " && echo '# tweak' >> worker/util.py && git commit -qam tweak", cwd: f.upstream)
        try sh("rm -rf '\(f.workspace)' && mkdir '\(f.workspace)'"
               + " && git -C '\(f.upstream)' archive HEAD | tar -x -C '\(f.workspace)'")
        try f.bake()
        // a.py becomes a directory holding code; pkg/ becomes a file; worker/main.py a directory.
        try sh("rm deep/er/a.py && mkdir -p deep/er/a.py/inner && echo 'x = 2' > deep/er/a.py/inner/x.py"
               + " && rm -rf deep/er/pkg && echo 'pkg = 3' > deep/er/pkg"
               + " && rm worker/main.py && mkdir worker/main.py && echo 'm = 4' > worker/main.py/m.py",
               cwd: f.workspace)
        for _ in 0..<2 {
            let (r, j) = try f.scan()
            #expect(r.code == 1, "\(r.err)")
            let ch = changes(j)
            #expect(ch["deep/er/a.py"] == "type")
            #expect(ch["deep/er/a.py/inner/x.py"] == "added")
            // The manifest lists files, not directories: the new file is an add.
            #expect(ch["deep/er/pkg"] == "added")
            #expect(ch["deep/er/pkg/b.py"] == "deleted")
            #expect(ch["worker/main.py/m.py"] == "added")
        }
        let d = try drift(["diff", "--manifest", f.mdir, "--state", f.state])
        #expect(d.code == 1, "\(d.err)")
        #expect(d.out.contains("deep/er/a.py/inner/x.py") && d.out.contains("deleted file mode"))
        let out = f.dir.sub("out")
        let e = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        #expect(e.code == 0, "\(e.err)")
        try Self.checkExport(f, out, expectPaths: ["deep/er/a.py/inner/x.py", "deep/er/pkg", "worker/main.py/m.py"],
                             absent: ["deep/er/a.py", "deep/er/pkg/b.py", "worker/main.py"])
        let c = f.dir.sub("am")
        try sh("git clone -q '\(f.upstream)' '\(c)' && git -C '\(c)' am -q '\(out)/drift.patch'")
        #expect(try sh("cat deep/er/a.py/inner/x.py deep/er/pkg worker/main.py/m.py", cwd: c)
                == "x = 2\npkg = 3\nm = 4\n")
        // And back: the directory becomes a file again.
        try sh("rm -rf deep/er/a.py && echo 'a = 5' > deep/er/a.py", cwd: f.workspace)
        let (r2, j2) = try f.scan()
        #expect(r2.code == 1, "\(r2.err)")
        #expect(changes(j2)["deep/er/a.py"] == "modified")
        let out2 = f.dir.sub("out2")
        let e2 = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out2])
        #expect(e2.code == 0, "\(e2.err)")
        // A follow-up: it applies where the first export was merged, and so does --cumulative on the base.
        try sh("git -C '\(c)' am -q '\(out2)/drift.patch'")
        #expect(try sh("cat deep/er/a.py", cwd: c) == "a = 5\n")
        let out3 = f.dir.sub("out3")
        #expect(try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out3,
                           "--cumulative"]).code == 0)
        let c2 = f.dir.sub("am2")
        try sh("git clone -q '\(f.upstream)' '\(c2)' && git -C '\(c2)' am -q '\(out3)/drift.patch'")
        #expect(try sh("cat deep/er/a.py", cwd: c2) == "a = 5\n")
        #expect(try sh("git rev-parse HEAD^{tree}", cwd: c2) == sh("git rev-parse HEAD^{tree}", cwd: c))
    }
}
