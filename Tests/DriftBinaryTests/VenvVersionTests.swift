import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// A trusted interpreter of another micro release than the venv's compiles other code
/// objects: its "differs" is no forgery verdict (issue 21, pyenv/conda false positive).
@Suite("venv version and the verifying interpreter")
struct VenvVersionTests {
    @Test("pyvenv.cfg: venv's version, virtualenv's version_info, CRLF; none without three numbers")
    func parse() {
        #expect(VenvVersion.parse("home = /x/bin\r\ninclude-system-site-packages = false\r\nversion = 3.11.7\r\n")
            == "3.11.7")
        #expect(VenvVersion.parse("version = 3.11.7\nversion_info = 3.11.7.final.0\n") == "3.11.7")
        #expect(VenvVersion.parse("home = /usr/bin\nversion = 3.11\n") == nil)
    }

    /// A pyenv Python with the minor of /usr/bin/python3 and another micro, or nil.
    static func otherMicro() throws -> (python: String, venv: String, trusted: String)? {
        let ask = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { return nil }
        let trusted = try sh("/usr/bin/python3 -c \"\(ask)\"").trimmingCharacters(in: .whitespacesAndNewlines)
        let minor = trusted.split(separator: ".").prefix(2).joined(separator: ".")
        let dir = "/root/.pyenv/versions"
        for v in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        where v.hasPrefix(minor + ".") && v != trusted {
            let python = "\(dir)/\(v)/bin/python\(minor)"
            if FileManager.default.isExecutableFile(atPath: python) { return (python, v, trusted) }
        }
        return nil
    }

    @Test("a pyc differing from the compile of a trusted interpreter of another micro release is unverifiable, exit 3",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func otherMicroIsIncomplete() throws {
        guard let (python, made, trusted) = try Self.otherMicro() else {
            print("skipped: no /root/.pyenv Python with the minor of /usr/bin/python3 and another micro version")
            return
        }
        let f = try Fixture()
        defer { f.dir.remove() }
        let venv = f.dir.sub("venvp")
        try run([python, "-m", "venv", venv])
        let pip = [venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check", "install",
                   "--no-index", "--find-links", Wheels.dir]
        #expect(try run(pip + ["six==1.16.0"]).code == 0)
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try f.bake(["--site-packages", sp])
        let (r0, j0) = try f.scan()
        #expect([0, 3].contains(r0.code), "\(r0.out) \(r0.err)")
        #expect(!PipBaselineTests.pipEntries(j0).contains { $0["change"] as? String == "modified" }, "\(r0.out)")
        // Code that differs from any compile of six.py: still no verdict from a 3.x.y verifier of another y.
        let tag = try sh("'\(python)' -c 'import sys; print(sys.implementation.cache_tag)'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let pyc = sp + "/__pycache__/six.\(tag).pyc"
        let forge = """
            import marshal, sys
            real = open(sys.argv[1], 'rb').read()
            code = compile("X = 'other'\\n", sys.argv[2], 'exec', dont_inherit=True)
            open(sys.argv[1], 'wb').write(real[:16] + marshal.dumps(code))
            """
        try sh("'\(python)' -c \"$FORGE\" '\(pyc)' '\(sp)/six.py'", env: ["FORGE": forge])
        let (r1, j1) = try f.scan()
        #expect(r1.code == 3, "\(r1.out) \(r1.err)")
        #expect(!PipBaselineTests.pipEntries(j1).contains { $0["change"] as? String == "modified" }, "\(r1.out)")
        let minor = made.split(separator: ".").prefix(2).joined(separator: ".")
        let why = "cannot be verified: trusted interpreter /usr/bin/python\(minor) is \(trusted), "
            + "the venv was made by \(made)"
        #expect((r1.out + r1.err).contains(why), "\(r1.out) \(r1.err)")
    }
}
