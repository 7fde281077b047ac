import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12, points 7 and 8: hostile values are one line and exit 2; drift never writes
/// under the root, whatever the spelling of the path.
@Suite("Containment: hostile values and write targets")
struct HostileInputTests {
    /// One `drift: …` line on stderr, exit 2.
    static func expectOneLine(_ r: Run, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.code == 2, "\(what): exit \(r.code) \(r.err.prefix(300))", sourceLocation: sourceLocation)
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 1 && r.err.hasPrefix("drift: "), "\(what): \(r.err.prefix(300))",
                sourceLocation: sourceLocation)
    }

    /// Every path under the workspace, to prove nothing was written there.
    static func listing(_ dir: String) throws -> String { try sh("find . | sort", cwd: dir) }

    @Test("one-character and relative output dirs export (no trap after journaling); hostile flag values are one line")
    func hostileFlags() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo '# hot' >> worker/util.py", cwd: f.workspace)
        try sh("mkdir -p o && cd o && mkdir x", cwd: f.dir.path)
        let r = try run([driftBinary(), "export", "--manifest", f.mdir, "--state", f.state, "--output", "x"],
                        cwd: f.dir.sub("o"))
        #expect(r.code == 0, "\(r.err.prefix(400))")
        #expect(FileManager.default.fileExists(atPath: f.dir.sub("o/x/drift.patch")))
        try sh("mkdir -p p", cwd: f.dir.path)
        let dot = try run([driftBinary(), "export", "--manifest", f.mdir, "--state", f.state, "--output", "."],
                          cwd: f.dir.sub("p"))
        #expect(dot.code == 0, "\(dot.err.prefix(400))")
        let before = try Self.listing(f.workspace)
        for wait in ["1e308", "-1", "nan", "inf", "99999999999999999999"] {
            Self.expectOneLine(try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--wait", wait]),
                               "--wait \(wait)")
        }
        #expect(try Self.listing(f.workspace) == before)
    }

    @Test("hostile policy values: one line, exit 2; an unpinned policy is refused before it is parsed")
    func hostilePolicy() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        for (name, text) in [("size", "size_limit: 9999999999GiB\n"), ("deadline", "deadline: 1e308d\n"),
                             ("neg", "size_limit: -5MiB\n")] {
            let p = f.dir.sub("\(name).yaml")
            try write(p, text)
            Self.expectOneLine(try drift(["manifest", "create", "--root", f.workspace, "--repo", f.upstream,
                                          "--output", f.dir.sub("m-\(name)"), "--policy", p]), name)
        }
        try f.bake()
        // A policy swapped after baking: refused by its pin, whatever it holds.
        try write(f.mdir + "/policy.yaml", "size_limit: 9999999999GiB\n")
        let before = try Self.listing(f.workspace)
        let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
        Self.expectOneLine(r, "unpinned policy")
        #expect(r.err.contains("pinned"))
        #expect(try Self.listing(f.workspace) == before)
    }

    /// Passes once the bounded YAML parser (branch `yaml`) replaces Yams, which overflows the stack.
    @Test("a policy nested 200,000 levels deep is one line, exit 2 (bounded parser)")
    func deepPolicy() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let p = f.dir.sub("deep.yaml")
        try Data((String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "\n").utf8)
            .write(to: URL(fileURLWithPath: p))
        Self.expectOneLine(try drift(["manifest", "create", "--root", f.workspace, "--repo", f.upstream,
                                      "--output", f.dir.sub("m"), "--policy", p],
                                     env: ["SWIFT_BACKTRACE": "enable=no"]), "deep YAML")
    }

    @Test("state, output, log and metrics are refused inside the root by identity, whatever the spelling")
    func writeTargetsByIdentity() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo '# hot' >> worker/util.py && ln -s '\(f.workspace)/worker' '\(f.dir.sub("alias"))'",
               cwd: f.workspace)
        let w = f.workspace
        let d = f.dir.path
        let before = try Self.listing(w)
        let cases: [[String]] = [
            ["scan", "--state", "\(d)/nope/../workspace/st"],
            ["scan", "--state", "\(d)/alias/st"],
            ["scan", "--state", f.state, "--log", "\(d)/nope3/../workspace/scan.log"],
            ["scan", "--state", f.state, "--metrics", "\(d)/alias/m.prom"],
            ["export", "--state", f.state, "--output", "\(d)/nope2/../workspace/out"],
            ["export", "--state", f.state, "--output", "\(w)/x/../..", "--force"],
            ["export", "--state", f.state, "--output", "\(w)/worker/x/..", "--force"],
            ["export", "--state", "\(d)/nope/../workspace/st2", "--output", "\(d)/fine"],
        ]
        for c in cases {
            let r = try drift([c[0], "--manifest", f.mdir] + Array(c.dropFirst()))
            if c.contains("\(w)/x/../..") {
                // That spelling is the workspace's parent: allowed, and no stage dir is left in the root.
                #expect(r.code == 0, "\(r.err)")
            } else {
                Self.expectOneLine(r, c.joined(separator: " "))
                #expect(r.err.contains("inside the scanned root"), "\(r.err)")
            }
        }
        #expect(try Self.listing(w) == before, "something was written under the root")
        #expect(!FileManager.default.fileExists(atPath: d + "/nope"), "refused before creating anything")
    }

    @Test("stale .drift-export-* stage dirs of killed exports are removed by the next export")
    func staleStages() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo '# hot' >> worker/util.py", cwd: f.workspace)
        // A stage of a process that no longer exists (pid from a finished child), and one of a live process.
        let dead = try sh("sh -c 'echo $$'").trimmingCharacters(in: .whitespacesAndNewlines)
        try sh("mkdir -p .drift-export-\(dead)-123/sub && echo x > .drift-export-\(dead)-123/drift.patch"
               + " && mkdir .drift-export-1-456", cwd: f.dir.path)
        let r = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", f.dir.sub("out")])
        #expect(r.code == 0, "\(r.err)")
        let names = try FileManager.default.contentsOfDirectory(atPath: f.dir.path)
            .filter { $0.hasPrefix(".drift-export-") }
        #expect(names == [".drift-export-1-456"], "\(names)")
    }
}
