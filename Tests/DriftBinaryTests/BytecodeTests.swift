import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12, point 5: bytecode is code.
@Suite("Containment: bytecode is code")
struct BytecodeTests {
    static let python = "/usr/bin/python3"

    @Test("pyc names map to their source, tag and optimisation level")
    func names() {
        let n = BytecodeCheck.parse(Array("w/__pycache__/tasks.cpython-311.opt-1.pyc".utf8))
        #expect(n?.source == Array("w/tasks.py".utf8) && n?.tag == "cpython-311" && n?.optimize == 1)
        #expect(BytecodeCheck.parse(Array("__pycache__/a.cpython-312.pyc".utf8))?.source == Array("a.py".utf8))
        #expect(BytecodeCheck.parse(Array("w/tasks.pyc".utf8)) == nil)
        #expect(BytecodeCheck.parse(Array("w/__pycache__/a.b.c.d.pyc".utf8)) == nil)
    }

    @Test("""
        runtime bytecode from a real interpreter is not drift; \
        a forged pyc that keeps the 16-byte header is bytecode drift
        """)
    func forgedPyc() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("python3 (Debian package python3) is not installed")
            return
        }
        let tag = try sh("\(Self.python) -c 'import sys; print(sys.implementation.cache_tag)'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = f.workspace
        // The app imports its code: Python writes bytecode at run time.
        let run = "cd '\(w)' && env -u PYTHONDONTWRITEBYTECODE \(Self.python) -c "
            + "'import worker.util as u; print(u.helper(1))'"
        #expect(try sh(run) == "2\n")
        let pyc = "worker/__pycache__/util.\(tag).pyc"
        #expect(FileManager.default.fileExists(atPath: w + "/" + pyc))
        let (r1, j1) = try f.scan()
        #expect(r1.code == 0, "runtime bytecode reported: \(r1.out) \(r1.err)")
        #expect(files(j1).isEmpty)
        #expect(FileManager.default.fileExists(atPath: f.state + "/pyccache"))
        // Unchanged pyc: no interpreter needed on the next scan (verdict cached by stat and hash).
        let (r2, _) = try f.scan()
        #expect(r2.code == 0)
        // The attacker: other code, same-size source, the original 16-byte header kept.
        let forge = """
            import marshal, sys
            real = open(sys.argv[1], 'rb').read()
            code = compile('def helper(x):\\n    return x - 1\\n', sys.argv[2], 'exec', dont_inherit=True)
            open(sys.argv[1], 'wb').write(real[:16] + marshal.dumps(code))
            """
        try sh("\(Self.python) -c \"$FORGE\" '\(pyc)' '\(w)/worker/util.py'", cwd: w, env: ["FORGE": forge])
        #expect(try sh(run) == "0\n", "Python must run the forged bytecode for this test to mean anything")
        let (r3, j3) = try f.scan()
        #expect(r3.code == 1, "\(r3.out) \(r3.err)")
        #expect(changes(j3) == [pyc: "bytecode"])
        #expect(files(j3).first?["class"] as? String == "code")
        // A stale pyc (source edited, header no longer matching) is Python's to recompile: only the source drifts.
        try sh("echo '# edited' >> worker/util.py", cwd: w)
        let (r4, j4) = try f.scan()
        #expect(r4.code == 1)
        #expect(changes(j4) == ["worker/util.py": "modified"], "\(changes(j4))")
    }
}
