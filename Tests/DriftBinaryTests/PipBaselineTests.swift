import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// site-packages is compared with the hashes baked at image build, never with the RECORD
/// installed now (issue 28): a RECORD rewritten to match a backdoor, and a same-version
/// reinstall of a patched wheel, are both pip `modified`.
@Suite("pip baseline is the truth")
struct PipBaselineTests {
    /// A venv with six 1.16.0 (and wheel, to repack), baked; returns (fixture, venv, site-packages).
    static func bakedVenv() throws -> (Fixture, String, String) {
        let f = try Fixture(requirements: "# worker pins\nsix==1.16.0\n")
        let venv = f.dir.sub("venv")
        try run(["python3", "-m", "venv", venv])
        let pip = [venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check", "install",
                   "--no-index", "--find-links", Wheels.dir]
        #expect(try run(pip + ["six==1.16.0", "wheel==0.42.0"]).code == 0)
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try f.bake(["--site-packages", sp, "--requirements", f.workspace + "/requirements.instance.txt"])
        return (f, venv, sp)
    }

    static func urlsafeSHA256(_ bytes: [UInt8]) throws -> String {
        Data(try SHA256Hasher.digest(bytes).bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func pipEntries(_ j: [String: Any]) -> [[String: Any]] { (j["pip"] as? [[String: Any]]) ?? [] }

    @Test("a backdoored six.py with its RECORD line rewritten to match is pip drift naming both",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func recordRewrite() throws {
        let (f, _, sp) = try Self.bakedVenv()
        defer { f.dir.remove() }
        let (r0, _) = try f.scan()
        #expect(r0.code == 0, "\(r0.out)")
        // The attacker keeps the size, so neither size nor the live RECORD gives it away.
        let six = sp + "/six.py"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: six)))
        let marker = Array("# ".utf8)
        bytes.replaceSubrange(0..<marker.count, with: marker)
        let backdoor = Array("import os;os.system('id')#".utf8)
        bytes.replaceSubrange(2..<(2 + backdoor.count), with: backdoor)
        try Data(bytes).write(to: URL(fileURLWithPath: six))
        let recordPath = sp + "/six-1.16.0.dist-info/RECORD"
        let record = try String(contentsOfFile: recordPath, encoding: .utf8)
        let newLine = "six.py,sha256=\(try Self.urlsafeSHA256(bytes)),\(bytes.count)"
        // pip writes RECORD with CRLF line ends (Python's csv default).
        let rewritten = record.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n")
            .map { $0.hasPrefix("six.py,") ? newLine : String($0) }
            .joined(separator: "\n") + "\n"
        #expect(rewritten != record)
        try rewritten.write(toFile: recordPath, atomically: false, encoding: .utf8)
        // The live RECORD agrees with the file now: only the baked hashes can tell.
        let live = try RecordFile.parse(Array(rewritten.utf8), file: recordPath)
        #expect(live.first { $0.path == "six.py" }?.sha256 == (try SHA256Hasher.digest(bytes)))

        for extra in [[], ["--full"]] {
            let (r, j) = try f.scan(extra)
            #expect(r.code == 1, "\(extra): \(r.out) \(r.err)")
            let modified = Self.pipEntries(j).first {
                $0["name"] as? String == "six" && $0["change"] as? String == "modified"
            }
            let files = (modified?["files"] as? [String]) ?? []
            #expect(files.contains { $0.hasSuffix("/six.py") }, "\(extra): \(files)")
            #expect(files.contains { $0.hasSuffix("six-1.16.0.dist-info/RECORD") }, "\(extra): \(files)")
            // six.py is in the baked RECORD: its rewritten line is a re-hash, not a new entry.
            #expect(files.contains { $0.hasSuffix("six.py (re-hashed in RECORD)") }, "\(extra): \(files)")
            #expect(!files.contains { $0.hasSuffix("six.py (not in the baked RECORD)") }, "\(extra): \(files)")
        }
    }

    @Test("pip install --force-reinstall of a patched six 1.16.0 wheel is pip modified naming six.py",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func sameVersionReinstall() throws {
        let (f, venv, sp) = try Self.bakedVenv()
        defer { f.dir.remove() }
        // A patched wheel of the same version, built with the real wheel tooling (RECORD regenerated).
        let work = f.dir.sub("patched")
        let python = venv + "/bin/python"
        try sh("mkdir -p '\(work)/dist' && cd '\(work)'"
               + " && '\(python)' -m wheel unpack -d . '\(Wheels.dir)/six-1.16.0-py2.py3-none-any.whl' >/dev/null"
               + " && printf '\\nimport os as _o; _o.environ.get(\"X\")\\n' >> six-1.16.0/six.py"
               + " && '\(python)' -m wheel pack -d dist six-1.16.0 >/dev/null")
        let wheel = work + "/dist/six-1.16.0-py2.py3-none-any.whl"
        #expect(FileManager.default.fileExists(atPath: wheel))
        let reinstall = try run([python, "-m", "pip", "-q", "--disable-pip-version-check", "install", "--no-index",
                                 "--no-deps", "--force-reinstall", wheel])
        #expect(reinstall.code == 0, "\(reinstall.err)")
        // pip itself sees nothing wrong: same name, same version, a RECORD that matches the files.
        let shown = try run([python, "-m", "pip", "show", "six"])
        #expect(shown.out.contains("Version: 1.16.0"))
        let (r, j) = try f.scan()
        #expect(r.code == 1, "\(r.out) \(r.err)")
        let entries = Self.pipEntries(j)
        #expect(entries.allSatisfy { $0["change"] as? String == "modified" }, "\(entries)")
        let six = entries.first { $0["name"] as? String == "six" }
        #expect(six?["from"] as? String == "1.16.0" && six?["to"] as? String == "1.16.0")
        let files = (six?["files"] as? [String]) ?? []
        #expect(files.contains(PathBytes.display(text: sp + "/six.py")), "\(files)")
        #expect(files.contains { $0.hasSuffix("six-1.16.0.dist-info/RECORD") }, "\(files)")
    }

    /// Incident 13: `Version: 1.16.0.0` in METADATA (PEP 440-equal to the baked 1.16.0) turned the
    /// baseline off: the backdoored six.py, its RECORD line rewritten, was checked against the live
    /// RECORD and never named; the export pinned `six==1.16.0.0`, which pip installs as 1.16.0.
    @Test("a version respelled PEP 440-equal keeps the baseline: the backdoored six.py is named",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func respelledVersion() throws {
        let (f, _, sp) = try Self.bakedVenv()
        defer { f.dir.remove() }
        let info = sp + "/six-1.16.0.dist-info"
        var six = Array(try Data(contentsOf: URL(fileURLWithPath: sp + "/six.py")))
        six += Array("\nimport os as _o  # backdoor\n".utf8)
        try Data(six).write(to: URL(fileURLWithPath: sp + "/six.py"))
        let metadata = try String(contentsOfFile: info + "/METADATA", encoding: .utf8)
        let respelled = Array(metadata.replacingOccurrences(of: "Version: 1.16.0\n", with: "Version: 1.16.0.0\n").utf8)
        #expect(respelled != Array(metadata.utf8))
        try Data(respelled).write(to: URL(fileURLWithPath: info + "/METADATA"))
        // The live RECORD agrees with both rewritten files.
        let lines = try String(contentsOfFile: info + "/RECORD", encoding: .utf8)
            .replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map(String.init)
        var rewritten: [String] = []
        for line in lines {
            if line.hasPrefix("six.py,") {
                rewritten.append("six.py,sha256=\(try Self.urlsafeSHA256(six)),\(six.count)")
            } else if line.hasPrefix("six-1.16.0.dist-info/METADATA,") {
                let hash = try Self.urlsafeSHA256(respelled)
                rewritten.append("six-1.16.0.dist-info/METADATA,sha256=\(hash),\(respelled.count)")
            } else {
                rewritten.append(line)
            }
        }
        try (rewritten.joined(separator: "\n") + "\n").write(toFile: info + "/RECORD", atomically: false,
                                                             encoding: .utf8)
        for extra in [[], ["--full"]] {
            let (r, j) = try f.scan(extra)
            #expect(r.code == 1, "\(extra): \(r.out) \(r.err)")
            let files = Self.pipEntries(j).filter { $0["name"] as? String == "six" }
                .flatMap { ($0["files"] as? [String]) ?? [] }
            #expect(files.contains(PathBytes.display(text: sp + "/six.py")), "\(extra): \(files)")
            #expect(files.contains { $0.hasSuffix("six-1.16.0.dist-info/RECORD") }, "\(extra): \(files)")
        }
    }

    @Test("RECORD sizes are capped per file and across dist-infos: an error naming the RECORD, the rest checked")
    func recordCaps() throws {
        let dir = try TempDir("pipcap")
        defer { dir.remove() }
        let sp = dir.sub("env/lib/python3.11/site-packages")
        try write(sp + "/ok.py", "x = 1\n")
        let okHash = try Self.urlsafeSHA256(Array("x = 1\n".utf8))
        try write(sp + "/ok-1.0.dist-info/METADATA", "Name: ok\nVersion: 1.0\n")
        try write(sp + "/ok-1.0.dist-info/RECORD", "ok.py,sha256=\(okHash),6\n")
        try write(sp + "/huge-1.0.dist-info/METADATA", "Name: huge\nVersion: 1.0\n")
        // Sparse: one byte over the per-RECORD cap costs no disk.
        let huge = sp + "/huge-1.0.dist-info/RECORD"
        try sh("truncate -s \(RecordFile.sizeLimit + 1) '\(huge)'")
        let (inv, issues) = try PipInventory.read(sp)
        #expect(inv.distributions.map(\.name) == ["ok"])
        #expect(issues.contains {
            PathBytes.display($0.path).hasSuffix("huge-1.0.dist-info") && $0.message.contains("RECORD")
        }, "\(issues)")
    }
}
