import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Wheels for the pip tests, downloaded once per machine from PyPI (skipped without it).
enum Wheels {
    static let dir = "/tmp/drift-test-wheels"
    static let wanted = ["six==1.16.0", "toml==0.10.1", "toml==0.10.2", "tomli==2.0.1", "wheel==0.42.0"]

    static func available() -> Bool {
        if wanted.allSatisfy({ w in
            let n = w.replacingOccurrences(of: "==", with: "-")
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .contains { $0.hasPrefix(n + "-") }
        }) { return true }
        for w in wanted {
            guard let r = try? run(["python3", "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                                    "-d", dir, w], timeout: 120),
                  r.code == 0 else { return false }
        }
        return true
    }
}

@Suite("pip drift")
struct PipTests {
    @Test("PEP 440 ordering", arguments: [
        ("1.0", "1.0.1"), ("1.0.dev1", "1.0a1"), ("1.0a1", "1.0a2"), ("1.0a2", "1.0b1"), ("1.0b1", "1.0rc1"),
        ("1.0rc1", "1.0"), ("1.0", "1.0.post1"), ("1.0.post1", "1.0.post2.dev1") , ("1.0.post2.dev1", "1.0.post2"),
        ("1.0", "1.0+local"), ("1.0+abc", "1.0+abc.1"), ("1.0+abc", "1.0+5"), ("1!0.5", "2!0.1"), ("2.0", "1!0.1"),
        ("1.9", "1.10"), ("1.0a1.dev1", "1.0a1"), ("1.0c1", "1.0rc2"), ("0.10.1", "0.10.2"), ("1.0-1", "1.0.post2"),
    ])
    func pep440(lower: String, higher: String) throws {
        let a = try #require(PEP440Version(lower)), b = try #require(PEP440Version(higher))
        #expect(a < b, "\(lower) < \(higher)")
        #expect(!(b < a))
    }

    @Test("PEP 440 equality and rejects")
    func pep440Equal() {
        #expect(PEP440Version("1.0") == PEP440Version("1.0.0"))
        #expect(PEP440Version("1.0RC1") == PEP440Version("1.0rc1"))
        #expect(PEP440Version("1.0-post1") == PEP440Version("1.0.post1"))
        #expect(PEP440Version("not a version") == nil)
        #expect(normalizedDistributionName("Foo.Bar__baz") == "foo-bar-baz")
    }

    @Test("RECORD CSV: quoted fields, commas in paths, empty hashes, urlsafe base64")
    func recordParsing() throws {
        let text = "six.py,sha256=4Szoy1hNRqQmDXHNHiv_eW4BEFh6ZIhjWJHOEq4q9BI,34549\n\"a,b.py\",,\n"
            + "six-1.16.0.dist-info/RECORD,,\n\"q\"\"uote.py\",sha256=4Szoy1hNRqQmDXHNHiv_eW4BEFh6ZIhjWJHOEq4q9BI,1\n"
        let r = try RecordFile.parse(Array(text.utf8), file: "RECORD")
        #expect(r.map(\.path) == ["six.py", "a,b.py", "six-1.16.0.dist-info/RECORD", "q\"uote.py"])
        #expect(r[0].sha256?.hex.count == 64 && r[0].size == 34549)
        #expect(r[1].sha256 == nil)
        #expect(throws: DriftError.self) { try RecordFile.parse(Array("x.py,sha256=@@@,1\n".utf8), file: "RECORD") }
        #expect(throws: DriftError.self) { try RecordFile.parse(Array("\"x.py,sha256=,1\n".utf8), file: "RECORD") }
        #expect(throws: DriftError.self) { try RecordFile.parse(Array("x.py,1\n".utf8), file: "RECORD") }
    }

    @Test("requirements edits keep comments and order")
    func requirementsEdit() {
        let text = "# base pins\nsix==1.16.0  # compat\n--index-url https://example.invalid/simple\n"
            + "toml==0.10.1\nrequests>=2\n"
        let pins = Requirements.pins(text)
        #expect(pins == ["six": "1.16.0", "toml": "0.10.1"])
        let out = Requirements.apply([
            PipChange(name: "toml", change: .upgraded, from: "0.10.1", to: "0.10.2", sitePackages: "", files: [],
                      allowed: false),
            PipChange(name: "six", change: .removed, from: "1.16.0", to: nil, sitePackages: "", files: [],
                      allowed: false),
            PipChange(name: "tomli", change: .added, from: nil, to: "2.0.1", sitePackages: "", files: [],
                      allowed: false),
            PipChange(name: "ok", change: .added, from: nil, to: "1", sitePackages: "", files: [], allowed: true),
        ], to: text)
        #expect(out == "# base pins\n--index-url https://example.invalid/simple\ntoml==0.10.2\n"
                + "requests>=2\ntomli==2.0.1\n")
    }

    @Test("bad site-packages input is reported per file, never crashes or hides the rest")
    func badInput() throws {
        let dir = try TempDir("pip")
        defer { dir.remove() }
        let sp = dir.sub("env/lib/python3.11/site-packages")
        func dist(_ name: String, metadata: String, record: String?) throws {
            try write(sp + "/\(name).dist-info/METADATA", metadata)
            if let record { try write(sp + "/\(name).dist-info/RECORD", record) }
        }
        try write(sp + "/good.py", "x = 1\n")
        let goodHash = "sha256=" + Data(try SHA256Hasher.digest(Array("x = 1\n".utf8)).bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        try dist("good-1.0", metadata: "Metadata-Version: 2.1\nName: Good\nVersion: 1.0\n",
                 record: "good.py,\(goodHash),6\ngood-1.0.dist-info/METADATA,,\ngood-1.0.dist-info/RECORD,,\n")
        try dist("nometa-1.0", metadata: "Metadata-Version: 2.1\nSummary: none\n", record: "")
        try dist("badcsv-1.0", metadata: "Name: badcsv\nVersion: 1.0\n", record: "\"unterminated,,\n")
        try dist("badb64-1.0", metadata: "Name: badb64\nVersion: 1.0\n", record: "x.py,sha256=!!!,3\n")
        try dist("norecord-1.0", metadata: "Name: norecord\nVersion: 1.0\n", record: nil)
        try dist("escape-1.0", metadata: "Name: escape\nVersion: 1.0\n",
                 record: "../../../../../etc/passwd,\(goodHash),6\n")
        let (inv, issues) = try PipInventory.read(sp)
        #expect(inv.distributions.map(\.name) == ["escape", "good"])
        let messages = issues.map { PathBytes.display($0.path) + ": " + $0.message }
        for name in ["nometa", "badcsv", "badb64", "norecord"] {
            #expect(messages.contains { $0.contains("\(name)-1.0.dist-info") }, "\(name): \(messages)")
        }
        // The escaping RECORD path is reported by the scanner and never opened.
        let baseline = PipBaseline(sitePackages: [inv], requirements: nil, pins: [:])
        let r = try PipScanner(baseline: baseline, allow: [], cache: nil).run()
        #expect(r.issues.contains { $0.message.contains("escapes the environment prefix") })
        #expect(r.changes.isEmpty, "\(r.changes)")
        // An unreadable site-packages is an error naming it.
        #expect(throws: DriftError.self) { try PipInventory.read(dir.sub("nope")) }
    }

    @Test("a real venv: every kind of pip drift is reported exactly and exported as pins",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func realVenv() throws {
        let f = try Fixture(requirements: "# worker pins\nsix==1.16.0\ntoml==0.10.1  # parser\n")
        defer { f.dir.remove() }
        let venv = f.dir.sub("venv")
        let pip = [venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check"]
        let offline = ["--no-index", "--find-links", Wheels.dir]
        try run(["python3", "-m", "venv", venv])
        #expect(try run(pip + ["install"] + offline + ["-r", f.workspace + "/requirements.instance.txt"]).code == 0)
        // `wheel` lets this setuptools build the editable install below (PEP 660).
        #expect(try run(pip + ["install"] + offline + ["wheel==0.42.0"]).code == 0)
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try f.bake(["--site-packages", sp, "--requirements", f.workspace + "/requirements.instance.txt"])
        // Unchanged, even after Python writes .pyc files.
        try sh("'\(venv)/bin/python' -c 'import six, toml' && '\(venv)/bin/python' -m compileall -q '\(sp)' >/dev/null")
        let (r0, j0) = try f.scan()
        #expect(r0.code == 0, "\(r0.out)")
        #expect((j0["pip"] as? [Any])?.isEmpty == true)

        // Every way site-packages drifts.
        let local = f.dir.sub("localpkg")
        try write(local + "/pyproject.toml",
                  "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n"
                  + "[project]\nname = \"hotpatch\"\nversion = \"0.1\"\n")
        try write(local + "/hotpatch.py", "FIX = True\n")
        #expect(try run(pip + ["install"] + offline + ["tomli==2.0.1"]).code == 0)
        #expect(try run(pip + ["install"] + offline + ["-U", "toml==0.10.2"]).code == 0)
        #expect(try run(pip + ["uninstall", "-y", "six"]).code == 0)
        let editable = try run(pip + ["install", "--no-build-isolation", "--no-deps"] + offline + ["-e", local])
        #expect(editable.code == 0, "\(editable.err)")
        try sh("echo '# hand edit' >> '\(sp)/toml/decoder.py' && echo 'x = 1' > '\(sp)/dropped_in.py'")
        let (r, j) = try f.scan()
        #expect(r.code == 1)
        let entries = (j["pip"] as? [[String: Any]]) ?? []
        func entry(_ name: String?, _ change: String) -> [String: Any]? {
            entries.first { ($0["name"] as? String) == name && $0["change"] as? String == change }
        }
        #expect(entry("tomli", "added")?["to"] as? String == "2.0.1")
        #expect(entry("toml", "upgraded")?["from"] as? String == "0.10.1")
        #expect(entry("toml", "upgraded")?["to"] as? String == "0.10.2")
        #expect(entry("six", "removed")?["from"] as? String == "1.16.0")
        #expect(entry("hotpatch", "editable")?["url"] as? String != nil)
        #expect((entry("toml", "modified")?["files"] as? [String])?.first?.hasSuffix("toml/decoder.py") == true)
        #expect(entry(nil, "unowned")?["files"] as? [String] == ["dropped_in.py"])
        #expect(entries.count == 6, "\(entries)")

        // drift's view of what is installed equals pip's own.
        let listed = try run([venv + "/bin/python", "-m", "pip", "list", "--format", "json", "--path", sp])
        let pipSet = Set(((try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]]) ?? [])
            .map { normalizedDistributionName($0["name"] as? String ?? "") + "==" + ($0["version"] as? String ?? "") })
        let ours = Set(try PipInventory.read(sp).0.distributions.map { "\($0.name)==\($0.version)" })
        #expect(ours == pipSet)

        // Export: the requirements file carries the pins; git am applies it.
        let out = f.dir.sub("out")
        let e = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        #expect(e.code == 0, "\(e.err)")
        let clone = f.dir.sub("clone")
        try sh("git clone -q '\(f.upstream)' '\(clone)' && cd '\(clone)' && git am -q '\(out)/drift.patch'")
        let req = try String(contentsOfFile: clone + "/requirements.instance.txt", encoding: .utf8)
        #expect(req.hasPrefix("# worker pins\ntoml==0.10.2  # parser\n"), "\(req)")
        #expect(req.contains("tomli==2.0.1\n") && !req.contains("six=="))
        #expect(req.contains("# drift: hotpatch"))
        let msg = try sh("git log -1 --format=%B", cwd: clone)
        #expect(msg.contains("dropped_in.py") && msg.contains("toml/decoder.py"))
        #expect(msg.contains("pip drift, written into requirements.instance.txt:"), "\(msg)")
        // A fresh venv from the exported requirements reproduces the drifted set (bar the editable).
        let v2 = f.dir.sub("venv2")
        try run(["python3", "-m", "venv", v2])
        #expect(try run([v2 + "/bin/python", "-m", "pip", "-q", "install"] + offline
                        + ["-r", clone + "/requirements.instance.txt"]).code == 0)
        let l2 = try run([v2 + "/bin/python", "-m", "pip", "list", "--format", "json"])
        let set2 = Set(((try JSONSerialization.jsonObject(with: Data(l2.out.utf8)) as? [[String: Any]]) ?? [])
            .map { normalizedDistributionName($0["name"] as? String ?? "") + "==" + ($0["version"] as? String ?? "") })
        #expect(set2.isSuperset(of: ["toml==0.10.2", "tomli==2.0.1"]) && !set2.contains("six==1.16.0"))
    }

    @Test("baked without a requirements file: the export's message does not claim the pins were written",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func pinsWithoutRequirements() throws {
        let f = try Fixture(requirements: "# worker pins\ntoml==0.10.1\n")
        defer { f.dir.remove() }
        let venv = f.dir.sub("venv")
        let pip = [venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check"]
        let offline = ["--no-index", "--find-links", Wheels.dir]
        try run(["python3", "-m", "venv", venv])
        #expect(try run(pip + ["install"] + offline + ["toml==0.10.1"]).code == 0)
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try f.bake(["--site-packages", sp])
        #expect(try run(pip + ["install"] + offline + ["-U", "toml==0.10.2"]).code == 0)
        try sh("echo 'FIX = 1' >> worker/util.py", cwd: f.workspace)
        let out = f.dir.sub("out")
        let e = try drift(["export", "--manifest", f.mdir, "--state", f.state, "--output", out])
        try #require(e.code == 0, "\(e.err)")
        let patch = try String(contentsOfFile: out + "/drift.patch", encoding: .utf8)
        #expect(!patch.contains("written into"), "\(patch)")
        #expect(patch.contains("pip drift (no requirements file under the workspace root was baked: not in this patch; "
                                + "pip-freeze.txt"))
        #expect(!patch.contains("requirements.instance.txt"), "no requirements edit in the patch")
    }
}
