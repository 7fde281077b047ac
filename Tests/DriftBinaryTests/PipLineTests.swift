import Foundation
import Testing

/// Newcomer incident 10: scan and status printed `modified certifi 2026.10.19.post1 ->
/// 2026.10.19.post1` and never the file. A version that did not change is printed once, and
/// the changed files are named (quoted, capped with "and N more").
@Suite struct PipLineTests {
    @Test("modified and unowned: the version once and the files named, in scan text and status",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func modifiedNamesFiles() throws {
        let f = try Fixture(requirements: "toml==0.10.1\n")
        defer { f.dir.remove() }
        let venv = f.dir.sub("venv")
        try run(["python3", "-m", "venv", venv])
        let pip = [venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check", "install", "--no-index",
                   "--find-links", Wheels.dir, "toml==0.10.1"]
        #expect(try run(pip).code == 0)
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try f.bake(["--site-packages", sp, "--requirements", f.workspace + "/requirements.instance.txt"])
        // One file edited by hand, then five; a file no RECORD owns with a tab in its name.
        try sh("echo '# hand edit' >> '\(sp)/toml/decoder.py' && printf 'x = 1\\n' > '\(sp)/tab\tname.py'")
        let common = ["--manifest", f.mdir, "--state", f.state]
        let one = try drift(["scan"] + common)
        #expect(one.out.contains("modified   toml 0.10.1: toml/decoder.py\n"), "\(one.out)")
        #expect(one.out.contains("unowned    (unowned): \"tab\\tname.py\"\n"), "\(one.out)")
        #expect(!one.out.contains("0.10.1 -> 0.10.1"), "\(one.out)")
        try sh("for m in __init__ encoder ordered tz; do echo '# edit' >> '\(sp)/toml/'$m.py; done")
        let five = try drift(["scan"] + common)
        let line = "modified   toml 0.10.1: toml/__init__.py, toml/decoder.py, toml/encoder.py and 2 more\n"
        #expect(five.out.contains(line), "\(five.out)")
        let status = try drift(["status"] + common)
        #expect(status.out.contains(line), "\(status.out)")
        #expect(status.out.contains("(unowned): \"tab\\tname.py\""), "\(status.out)")
    }
}
