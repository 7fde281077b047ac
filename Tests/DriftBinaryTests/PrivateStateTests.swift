import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Issue 22: the state dir holds hotfix content (and, for a moment, what a secret rotation
/// made secret): only drift's user may read it.
@Suite("Private state")
struct PrivateStateTests {
    /// Every path under `dir` whose mode lets group or others in.
    static func openToOthers(_ dir: String) throws -> [String] {
        try sh("find '\(dir)' -perm /077 -printf '%m %P\\n'").split(separator: "\n").map(String.init)
    }

    @Test("a state dir others can read is tightened to 0700 and said so; everything drift writes is private")
    func tightened() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("mkdir -m 0755 '\(f.state)' && echo 'X = 1' >> worker/util.py", cwd: f.workspace)
        let (r, _) = try f.scan()
        #expect(r.code == 1, "\(r.err)")
        #expect(r.err.contains("drift: note: \(f.state): state directory was readable by others (mode 755); "
            + "changed to 0700"), "\(r.err)")
        let open = try Self.openToOthers(f.state)
        #expect(open.isEmpty, "\(open)")
        let (again, _) = try f.scan()
        #expect(!again.err.contains("readable by others"), "said once, when it was fixed")
        let out = f.dir.sub("out")
        #expect(try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out]).code == 0)
        let after = try Self.openToOthers(f.state) + Self.openToOthers(out)
        #expect(after.isEmpty, "\(after)")
    }

    @Test("a state path that is a symbolic link to an open directory is refused; the directory's mode is not touched")
    func symlinkedState() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let open = f.dir.sub("shared-777")
        try sh("mkdir -m 0777 '\(open)' && ln -s '\(open)' '\(f.state)' && echo 'X = 1' >> worker/util.py",
               cwd: f.workspace)
        for verb in [["scan"], ["export", "--output", f.dir.sub("out")], ["forget"]] {
            let r = try drift(verb + ["--manifest", f.mdir, "--state", f.state])
            #expect(r.code == 2, "\(verb): \(r.err)")
            #expect(r.err == "drift: \(f.state): exists and is not a directory\n", "\(verb): \(r.err)")
        }
        #expect(try sh("stat -c %a '\(open)'").trimmingCharacters(in: .whitespacesAndNewlines) == "777")
        #expect(try sh("ls -A '\(open)'").isEmpty, "nothing written into it")
    }

    @Test("a state dir another user owns is refused before anything is written",
          .enabled(if: geteuid() == 0, "needs root to give the directory to another user"))
    func foreignOwner() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("mkdir -m 0700 '\(f.state)' && chown 65534:65534 '\(f.state)' && echo 'X = 1' >> worker/util.py",
               cwd: f.workspace)
        for verb in [["scan"], ["diff"], ["export", "--output", f.dir.sub("out")]] {
            let r = try drift(verb + ["--manifest", f.mdir, "--state", f.state])
            #expect(r.code == 2, "\(verb): \(r.err)")
            #expect(r.err.hasPrefix("drift: \(f.state): state directory is owned by uid 65534, not by drift's user"),
                    "\(r.err)")
        }
        #expect(try sh("ls -A '\(f.state)'").isEmpty, "nothing written into it")
    }
}
