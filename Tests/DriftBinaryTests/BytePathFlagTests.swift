import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// The last path arguments that were text (issue 25.6): `manifest create --requirements` and
/// `--site-packages`, `gate --image-root` (and `--workspace`), and path remotes (`scan
/// --upstream`, `export --push`, `push`'s REMOTE) take names that are not UTF-8, each through
/// the binary with a name holding `\377`, a newline and an escape byte, next to a decoy at the
/// UTF-8-repaired name that must stay untouched.
@Suite("byte paths: pip flags, image root, path remotes")
struct BytePathFlagTests {
    /// The name's bytes as `printf` makes them, and its UTF-8-repaired form (the decoys').
    static let name = "\\377\\n\\033"
    static let repaired = "\u{FFFD}\n\u{1B}"
    static let suffix: [UInt8] = [0xFF, 0x0A, 0x1B]

    static func drift(_ args: String, cwd: String) throws -> Run {
        try ByteRootTests.driftNamed(name, "X=1", args, cwd: cwd)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("--site-packages and --requirements named '…\\377\\n\\033': pip.json keeps the bytes, scan finds pip drift",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func nonUTF8PipPaths() throws {
        let f = try Fixture(requirements: "# pins\nsix==1.16.0\n")
        defer { f.dir.remove() }
        let cwd = f.dir.path
        let venv = f.dir.sub("venv")
        try run(["python3", "-m", "venv", venv])
        let pip = [venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check", "install",
                   "--no-index", "--find-links", Wheels.dir]
        #expect(try run(pip + ["six==1.16.0"]).code == 0)
        let py = try sh("'\(venv)/bin/python' -c 'import sys; print(\"python%d.%d\" % sys.version_info[:2])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // The venv moves to a name that is not UTF-8 (python -m venv is relocatable enough for
        // drift: it reads files); the requirements file is named so too.
        try sh("mv venv \"$(printf 'v-\(Self.name)')\" && "
               + "printf '# pins\\nsix==1.16.0\\n' > \"$(printf 'q-\(Self.name)')\"", cwd: cwd)
        let decoys = try ["v-", "q-"].map { try ByteRootTests.decoy($0 + Self.repaired, in: cwd) }
        let sp = "v-$N/lib/\(py)/site-packages"
        let bake = try Self.drift("manifest create --root workspace --repo upstream --output mdir "
                                  + "--site-packages \"\(sp)\" --requirements \"q-$N\"", cwd: cwd)
        #expect(bake.code == 0, "\(bake.err)")
        let pipJSON = try Self.json(try String(contentsOfFile: f.mdir + "/pip.json", encoding: .utf8))
        let site = try #require((pipJSON["site_packages"] as? [[String: Any]])?.first)
        #expect((site["path_escaped"] as? String)?.hasSuffix("/v-%FF%0A%1B/lib/\(py)/site-packages") == true,
                "\(site["path_escaped"] ?? "none")")
        #expect((site["prefix_escaped"] as? String)?.hasSuffix("/v-%FF%0A%1B") == true)
        #expect((site["path"] as? String)?.contains("v-\\377\\n\\033") == true, "the text field is quoted for people")
        #expect((pipJSON["requirements_escaped"] as? String)?.hasSuffix("/q-%FF%0A%1B") == true)
        #expect((pipJSON["pins"] as? [String: String])?["six"] == "1.16.0", "the pins were read from q-\\377\\n\\033")
        let clean = try Self.drift("scan --manifest mdir --state state --format json", cwd: cwd)
        #expect(clean.code == 0, "\(clean.out)\(clean.err)")
        try sh("printf '\\n# hot\\n' >> \"$(printf 'v-\(Self.name)')/lib/\(py)/site-packages/six.py\"", cwd: cwd)
        let hot = try Self.drift("scan --manifest mdir --state state --format json", cwd: cwd)
        #expect(hot.code == 1, "\(hot.out)\(hot.err)")
        let entries = (try Self.json(hot.out)["pip"] as? [[String: Any]]) ?? []
        let six = entries.first { $0["name"] as? String == "six" }
        #expect(six?["change"] as? String == "modified", "\(entries)")
        #expect((six?["site_packages"] as? String)?.contains("v-\\377\\n\\033") == true, "\(entries)")
        #expect(decoys.allSatisfy { $0() }, "nothing went to a repaired name")
    }

    @Test("a requirements file under the root named 'req-\\377\\n\\033.txt': the export writes the pins into it",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func nonUTF8RequirementsUnderRoot() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let cwd = f.dir.path
        let req = "\"$(printf 'req-\(Self.name).txt')\""
        try sh("printf '# pins\\nsix==1.16.0\\n' > \(req) && git add -A && git commit -qm req "
               + "&& cp \(req) ../workspace/", cwd: f.upstream)
        let venv = f.dir.sub("venv")
        try run(["python3", "-m", "venv", venv])
        let pip = [venv + "/bin/python", "-m", "pip", "-q", "--disable-pip-version-check", "install",
                   "--no-index", "--find-links", Wheels.dir]
        #expect(try run(pip + ["six==1.16.0"]).code == 0)
        let sp = try sh("'\(venv)/bin/python' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let bake = try Self.drift("manifest create --root workspace --repo upstream --output mdir "
                                  + "--site-packages '\(sp)' --requirements \"workspace/req-$N.txt\"", cwd: cwd)
        #expect(bake.code == 0, "\(bake.err)")
        let pipJSON = try Self.json(try String(contentsOfFile: f.mdir + "/pip.json", encoding: .utf8))
        #expect(pipJSON["requirements_escaped"] as? String == "req-%FF%0A%1B.txt", "relative to the root")
        #expect(try run(pip + ["toml==0.10.2"]).code == 0)
        let hot = try Self.drift("scan --manifest mdir --state state", cwd: cwd)
        #expect(hot.code == 1, "\(hot.out)\(hot.err)")
        let export = try Self.drift("export --manifest mdir --state state --output out", cwd: cwd)
        #expect(export.code == 0, "\(export.err)")
        try sh("git clone -q upstream clone && git -C clone am -q ../out/drift.patch", cwd: cwd)
        let pinned = try sh("cat \"$(printf 'clone/req-\(Self.name).txt')\"", cwd: cwd)
        #expect(pinned.contains("toml==0.10.2") && pinned.contains("six==1.16.0"), "\(pinned)")
        let msg = try sh("git -C clone log -1 --format=%B", cwd: cwd)
        #expect(msg.contains("pip drift, written into \"req-\\377\\n\\033.txt\":"), "\(msg)")
    }

    @Test("gate --image-root 'i-\\377\\n\\033' and --workspace '/w-\\377\\n\\033': clean 0, drift baked in 1")
    func nonUTF8ImageRoot() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let cwd = f.dir.path
        let untouched = try ByteRootTests.decoy("i-" + Self.repaired, in: cwd)
        try sh("W=\"$(printf 'i-\(Self.name)/w-\(Self.name)')\"; mkdir -p \"$W\" && git -C upstream archive HEAD "
               + "| tar -x -C \"$W\"", cwd: cwd)
        let bake = try Self.drift("manifest create --root \"i-$N/w-$N\" --repo upstream --output \"i-$N/etc/drift\"",
                                  cwd: cwd)
        #expect(bake.code == 0, "\(bake.err)")
        let gate = "gate --image-root \"i-$N\" --workspace \"/w-$N\" --format json"
        let clean = try Self.drift(gate, cwd: cwd)
        #expect(clean.code == 0, "\(clean.out)\(clean.err)")
        try sh("echo 'x = 2' >> \"$(printf 'i-\(Self.name)/w-\(Self.name)')/worker/util.py\"", cwd: cwd)
        let baked = try Self.drift(gate, cwd: cwd)
        #expect(baked.code == 1 && baked.out.contains("worker/util.py"), "\(baked.out)\(baked.err)")
        #expect(untouched(), "nothing went to the repaired name")
        // A workspace that is not in the image is named quoted, on one line, exit 2.
        let none = try Self.drift("gate --image-root \"i-$N\" --workspace \"/n-$N\"", cwd: cwd)
        #expect(none.code == 2 && none.err.split(separator: "\n").count == 1, "\(none.err)")
        #expect(none.err.contains("n-\\377\\n\\033"), "\(none.err)")
    }

    @Test("scan --upstream, export --push, push to repositories named '…\\377\\n\\033' (and file://); git reads them")
    func nonUTF8Remotes() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let cwd = f.dir.path
        try f.bake()
        let gitDir = { (n: String) in "--git-dir \"$(printf '\(n)-\(Self.name).git')\"" }
        try sh("git clone -q --bare upstream \"$(printf 'u-\(Self.name).git')\" && "
               + "git init -q --bare \"$(printf 'r-\(Self.name).git')\" && "
               + "git init -q --bare \"$(printf 's-\(Self.name).git')\"", cwd: cwd)
        // Decoys: bare repositories at the repaired names (a repaired push would land there).
        for n in ["u-", "r-", "s-"] {
            _ = try run(["git", "init", "-q", "--bare", cwd + "/" + n + Self.repaired + ".git"])
        }
        let scan = try Self.drift("scan --manifest mdir --state state --upstream \"u-$N.git\"", cwd: cwd)
        #expect(scan.code == 0, "\(scan.out)\(scan.err)")
        let tip = try sh("git --git-dir state/upstream.git rev-parse refs/drift-upstream/tip", cwd: cwd)
        #expect(tip == (try sh("git -C upstream rev-parse HEAD", cwd: cwd)), "the byte-named upstream was fetched")
        try sh("echo 'x = 2' >> workspace/worker/util.py", cwd: cwd)
        let export = try Self.drift("export --manifest mdir --state state --output out --push \"r-$N.git\"",
                                    cwd: cwd)
        #expect(export.code == 0 && export.out.contains("pushed refs/drift/"), "\(export.out)\(export.err)")
        #expect(export.out.contains("\"r-\\377\\n\\033.git\""), "the remote is shown quoted: \(export.out)")
        let refs = try sh("git \(gitDir("r")) for-each-ref --format='%(refname)' refs/drift", cwd: cwd)
            .split(separator: "\n")
        #expect(refs.count == 1, "\(refs)")
        let ref = String(refs.first ?? "")
        let log = try sh("git \(gitDir("r")) log --format=%B \(ref)", cwd: cwd)
        #expect(log.hasPrefix("drift ledger: export ") && log.contains("Drift-Ledger: "), "\(log)")
        #expect(try run(["/bin/sh", "-c", "git \(gitDir("r")) fsck --strict"], cwd: cwd).code == 0)
        // The same repository spelled file://ABSOLUTE is the same remote: already pushed.
        let again = try Self.drift("push --manifest mdir --state state \"file://$PWD/r-$N.git\"", cwd: cwd)
        #expect(again.code == 0 && again.out.hasPrefix("already pushed: "), "\(again.out)\(again.err)")
        let other = try Self.drift("push --manifest mdir --state state \"s-$N.git\"", cwd: cwd)
        #expect(other.code == 0 && other.out.hasPrefix("pushed "), "\(other.out)\(other.err)")
        #expect(try sh("git \(gitDir("s")) log --format=%H \(ref)", cwd: cwd).count == 41)
        for n in ["u-", "r-", "s-"] {
            let decoy = try sh("git --git-dir '\(cwd)/\(n)\(Self.repaired).git' for-each-ref", cwd: cwd)
            #expect(decoy.isEmpty, "the decoy \(n) stays empty: \(decoy)")
        }
        // A remote that is not UTF-8 and reads as a URL is refused, exit 2, named quoted.
        for remote in ["ssh://host/x-$N", "host:x-$N"] {
            let r = try Self.drift("push --manifest mdir --state state \"\(remote)\"", cwd: cwd)
            #expect(r.code == 2 && r.err.contains("a remote URL must be UTF-8"), "\(remote): \(r.err)")
            #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("x-\\377\\n\\033"), "\(r.err)")
        }
    }

    @Test("GitRemote: UTF-8 is a URL as before; other bytes are a path (file:// dropped); URL forms refused")
    func remoteArgument() throws {
        #expect(try GitRemote(argument: Array("ssh://git@h/r".utf8)) == .url("ssh://git@h/r"))
        #expect(try GitRemote(argument: Array("/srv/r.git".utf8)) == .url("/srv/r.git"))
        let bytes = Array("/srv/r-".utf8) + Self.suffix
        #expect(try GitRemote(argument: bytes) == .path(bytes))
        #expect(try GitRemote(argument: Array("file://".utf8) + bytes) == .path(bytes))
        let dotted = Array("./a:b-".utf8) + Self.suffix
        #expect(try GitRemote(argument: dotted) == .path(dotted))
        for refused in ["https://h/r-", "h:r-", "git@h:r-", "file://h/r-"] {
            #expect(throws: DriftError.self) { try GitRemote(argument: Array(refused.utf8) + Self.suffix) }
        }
        // state.json keys a byte path by its quoted real path; the key reads back as itself.
        let key = RemoteKey.key(.path(bytes))
        #expect(key == PathBytes.display(bytes) && RemoteKey.key(key) == key && RemoteKey.identity(key) == key)
    }

    @Test("pip.json as main wrote it (text fields) reads; byte paths round-trip through *_escaped; a bad escape fails")
    func pipJSONCompat() throws {
        // Written by drift before this change (b02adcd): `path`, `prefix`, `requirements` as text.
        let old = """
            {"pins":{"six":"1.16.0"},"requirements":"requirements.instance.txt","schema":"drift.pip\\/1",
             "site_packages":[{"distributions":[],"path":"\\/venv\\/lib\\/python3.11\\/site-packages",
             "prefix":"\\/venv","unowned":["stray.py"]}]}
            """
        let read = try JSONDecoder().decode(PipBaseline.self, from: Data(old.utf8))
        #expect(read.requirements == Array("requirements.instance.txt".utf8))
        #expect(read.sitePackages.first?.path == Array("/venv/lib/python3.11/site-packages".utf8))
        #expect(read.sitePackages.first?.prefix == Array("/venv".utf8))
        #expect(read.sitePackages.first?.unowned == ["stray.py"])
        // A UTF-8 baseline is written exactly as before: no new field.
        let same = String(decoding: try JSONCoding.encode(read), as: UTF8.self)
        #expect(!same.contains("_escaped"), "\(same)")
        let venv = Array("/v-".utf8) + Self.suffix
        let sp = venv + Array("/lib/python3.11/site-packages".utf8)
        let bytesBaseline = PipBaseline(
            sitePackages: [SitePackagesInventory(path: sp, prefix: venv, distributions: [], unowned: [])],
            requirements: Array("q-".utf8) + Self.suffix, pins: [:])
        let encoded = try JSONCoding.encode(bytesBaseline)
        #expect(String(decoding: encoded, as: UTF8.self).contains("v-%FF%0A%1B"))
        let back = try JSONDecoder().decode(PipBaseline.self, from: Data(encoded))
        #expect(back.sitePackages.first?.path == sp && back.sitePackages.first?.prefix == venv)
        #expect(back.requirements == Array("q-".utf8) + Self.suffix)
        let bad = old.replacingOccurrences(of: "\"prefix\":", with: "\"prefix_escaped\":\"%G0\",\"prefix\":")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(PipBaseline.self, from: Data(bad.utf8)) }
    }
}
