import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Issue 21, points 3 and 4: bytecode is evidence, not upstream material, and only a trusted
/// interpreter verifies it.
@Suite("Bytecode is evidence")
struct BytecodeEvidenceTests {
    static let python = "/usr/bin/python3"

    static func tag() throws -> String {
        try sh("\(python) -c 'import sys; print(sys.implementation.cache_tag)'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("Python's import rules: what is cached, sourceless, noise or ordinary code")
    func roles() {
        func role(_ p: String) -> BytecodeCheck.Role? { BytecodeCheck.role(Array(p.utf8)) }
        #expect(role("w/__pycache__/a.cpython-311.pyc") == .cached(BytecodeCheck.parse(
            Array("w/__pycache__/a.cpython-311.pyc".utf8))!))
        #expect(role("w/stale.pyc") == .sourceless(source: Array("w/stale.py".utf8)))
        #expect(role("w/__pycache__/cache.bin") == .noise)
        #expect(role("w/__pycache__/sub/x.txt") == .noise)
        // Importable from a package named __pycache__: stays code.
        #expect(role("w/__pycache__/evil.py") == nil)
        #expect(role("w/main.py") == nil)
    }

    @Test("""
        py_compile is noise-free; cache.bin and a bad-magic stale.pyc are noise; a forged, a sourceless \
        loadable and a symlinked pyc (inside and outside the root) are bytecode: journaled, never in \
        the patch or bundle, listed in the export, not required by the gate
        """)
    func evidence() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("python3 (Debian package python3) is not installed")
            return
        }
        let tag = try Self.tag()
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let w = f.workspace
        try sh("\(Self.python) -m py_compile worker/util.py", cwd: w)
        let (r0, j0) = try f.scan()
        #expect(r0.code == 0, "py_compile output reported: \(changes(j0)) \(r0.err)")

        // Noise: Python never reads these.
        try sh("head -c 300 /dev/urandom > worker/__pycache__/cache.bin"
               + " && printf 'not bytecode at all, bad magic.....' > worker/stale.pyc", cwd: w)
        let (r1, j1) = try f.scan()
        #expect(r1.code == 0, "noise reported: \(changes(j1)) \(r1.err)")

        // Bytecode drift.
        let forge = """
            import marshal, sys
            real = open(sys.argv[1], 'rb').read()
            code = compile('def helper(x):\\n    return x - 1\\n', sys.argv[2], 'exec', dont_inherit=True)
            open(sys.argv[1], 'wb').write(real[:16] + marshal.dumps(code))
            """
        let utilPyc = "worker/__pycache__/util.\(tag).pyc"
        try sh("\(Self.python) -c \"$FORGE\" '\(utilPyc)' '\(w)/worker/util.py'", cwd: w, env: ["FORGE": forge])
        let outside = f.dir.sub("outside")
        try sh("""
            mkdir -p '\(outside)'
            printf 'X = 1\\n' > worker/extra.py
            \(Self.python) -c "import py_compile; py_compile.compile('worker/extra.py', cfile='worker/extra.pyc')"
            rm worker/extra.py
            ln -s extra.pyc worker/linked.pyc
            printf 'def h():\\n    return 1\\n' > worker/helpers.py
            \(Self.python) -c "import py_compile; py_compile.compile('worker/helpers.py', cfile='\(outside)/evil.pyc')"
            ln -s '\(outside)/evil.pyc' worker/__pycache__/helpers.\(tag).pyc
            """, cwd: w)
        // Python really loads each of them (the test means something).
        #expect(try sh("cd '\(w)' && \(Self.python) -c 'import worker.extra, worker.linked; print(worker.linked.X)'")
            == "1\n")
        let (r2, j2) = try f.scan()
        #expect(r2.code == 1, "\(r2.err)")
        let want = [utilPyc: "bytecode", "worker/extra.pyc": "bytecode", "worker/linked.pyc": "bytecode",
                    "worker/__pycache__/helpers.\(tag).pyc": "bytecode", "worker/helpers.py": "added"]
        #expect(changes(j2) == want)

        // Export: the patch and the bundle carry helpers.py alone; the message lists the bytecode.
        let ledger = f.dir.sub("ledger")
        let out = ledger + "/host-a/1"
        let e = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        #expect(e.code == 0, "\(e.err)")
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && git -C '\(clone)' am -q '\(out)/drift.patch'")
        #expect(try sh("git -C '\(clone)' diff --name-only HEAD~1 HEAD") == "worker/helpers.py\n")
        let ref = try sh("git -C '\(clone)' bundle list-heads '\(out)/drift.bundle'")
            .split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        try sh("git -C '\(clone)' fetch -q '\(out)/drift.bundle' '\(ref):refs/remotes/drift/x'")
        let base = try sh("git -C '\(f.upstream)' rev-parse HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try sh("git -C '\(clone)' diff --name-only \(base) drift/x") == "worker/helpers.py\n")
        let message = try sh("git -C '\(clone)' log -1 --format=%B")
        #expect(message.contains("Not in this patch: bytecode — remove it on the instance"))
        for p in want.keys where p.hasSuffix(".pyc") { #expect(message.contains(p), "\(p)") }
        let report = try String(contentsOfFile: out + "/report.json", encoding: .utf8)
        #expect(report.contains("\"change\":\"bytecode\"") || report.contains("\"change\" : \"bytecode\""))

        // The gate: upstream merged the patch; the bytecode is not demanded there.
        let gate = try drift(["gate", "--repo", clone, "--ledger", ledger])
        #expect(gate.code == 0, "\(gate.out)\(gate.err)")
    }

    @Test("a fake python3.98 in a writable PATH directory never runs; the pyc is reported unverified (exit 3)")
    func untrustedInterpreter() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let bin = f.dir.sub("venv/bin")
        let marker = f.dir.sub("RAN")
        try write(bin + "/python3.98", "#!/bin/sh\ntouch '\(marker)'\nprintf 'cpython-398\\nLL'\n")
        try sh("chmod 755 '\(bin)/python3.98' && chmod 777 '\(bin)'")
        try sh("head -c 64 /dev/urandom > worker/__pycache__/util.cpython-398.pyc"
               + " && head -c 64 /dev/urandom > worker/__pycache__/main.cpython-398.pyc", cwd: f.workspace)
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json"], env: ["PATH": path])
        #expect(!FileManager.default.fileExists(atPath: marker), "the planted interpreter ran")
        #expect(r.code == 3, "\(r.out)\(r.err)")
        #expect(r.out.contains("no trusted interpreter"))
        #expect(!TrustedExecutable.check(bin + "/python3.98"))
        // Root-owned, 0755, but below world-writable /tmp: still not trusted.
        try sh("chmod 755 '\(bin)'")
        #expect(!TrustedExecutable.check(bin + "/python3.98"))
        #expect(TrustedExecutable.check("/usr/bin/python3"))
        #expect(!TrustedExecutable.check("python3"))
    }
}
