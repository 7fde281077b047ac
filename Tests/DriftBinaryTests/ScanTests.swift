import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

@Suite("Scan")
struct ScanTests {
    @Test("each change type is found, and nothing else")
    func changeTypes() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let (r0, j0) = try f.scan()
        #expect(r0.code == 0, "\(r0.err)")
        #expect(j0["clean"] as? Bool == true)
        let w = f.workspace
        try sh("""
            echo 'def helper(x):\n    return x + 2' > worker/util.py
            echo 'new = 1' > worker/hotfix.py
            rm config/settings.yaml
            chmod -x start_remote.sh
            rm entry.py && echo 'now a file' > entry.py
            rm assets/logo.bin && ln -s /etc/hostname assets/logo.bin
            echo 'TOKEN=changed' > .env
            echo 'retrained' > packages/models/whisper.bin
            """, cwd: w)
        let (r, j) = try f.scan()
        #expect(r.code == 1)
        #expect(changes(j) == [
            "worker/util.py": "modified", "worker/hotfix.py": "added", "config/settings.yaml": "deleted",
            "start_remote.sh": "mode", "entry.py": "type", "assets/logo.bin": "type",
            ".env": "modified", "packages/models/whisper.bin": "modified",
        ])
        let classes = Dictionary(uniqueKeysWithValues: files(j).map { ($0["path"] as! String, $0["class"] as! String) })
        #expect(classes[".env"] == "config")
        #expect(classes["packages/models/whisper.bin"] == "data")
        #expect(classes["worker/util.py"] == "code")
        // Sorted by path bytes.
        let paths = files(j).map { Array(($0["path"] as! String).utf8) }
        #expect(paths == paths.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(j["schema"] as? String == "drift.scan/1")
        #expect((j["commit"] as? String)?.count == 40)
        #expect(j["pip"] as? [Any] != nil && j["errors"] as? [Any] != nil && j["summary"] as? [String: Any] != nil)

        // A symlink's target changing is `modified`; a directory replacing a file is `type`.
        try sh("rm assets/logo.bin && ln -s /etc/passwd assets/logo.bin && rm worker/main.py && mkdir worker/main.py",
               cwd: w)
        let (_, j2) = try f.scan()
        #expect(changes(j2)["worker/main.py"] == "type")
        #expect(changes(j2)["assets/logo.bin"] == "type")
    }

    @Test("a touch and changes under ignored paths are not drift")
    func touchAndIgnored() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("touch -d '2001-01-01' worker/main.py && touch worker/util.py && echo more >> logs/w.log"
               + " && mkdir -p tmp && echo x > tmp/t && echo y > worker/__pycache__/util.cpython-311.pyc"
               + " && echo z > a.log && mkdir -p .cache/pip && echo c > .cache/pip/x", cwd: f.workspace)
        let (r, j) = try f.scan()
        #expect(r.code == 0, "\(r.out)")
        #expect(files(j).isEmpty)
    }

    @Test("first_seen is kept while the same drift persists, across processes, and forgotten once clean")
    func firstSeenPersists() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let t1 = try #require(Timestamp.parse("2026-01-10T08:00:00Z"))
        func scan(at t: Date) throws -> ScanReport {
            var runner = ScanRunner(manifestDir: ManifestDirectory(path: f.mdir), root: nil,
                                    state: StateDirectory(path: f.state))
            runner.clock = .fixed(t)
            return try runner.run().report
        }
        func seen(_ r: ScanReport) -> [String: String] {
            Dictionary(uniqueKeysWithValues: r.files.map { ($0.path, $0.firstSeen) })
        }
        try sh("echo x >> worker/util.py", cwd: f.workspace)
        let r1 = try scan(at: t1)
        #expect(seen(r1) == ["worker/util.py": "2026-01-10T08:00:00Z"] && r1.scannedAt == "2026-01-10T08:00:00Z")

        // Three days later, in another process (the binary's clock is $DRIFT_TEST_NOW): the
        // same path, edited again, keeps its first sighting; new drift is first seen now.
        try sh("echo y >> worker/util.py && echo 'n = 1' > worker/new.py", cwd: f.workspace)
        let r2 = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json"],
                           env: ["DRIFT_TEST_NOW": "2026-01-13T08:00:00Z"])
        #expect(r2.code == 1, "\(r2.err)")
        let j2 = try #require(try JSONSerialization.jsonObject(with: Data(r2.out.utf8)) as? [String: Any])
        let seen2 = Dictionary(uniqueKeysWithValues: files(j2).map {
            ($0["path"] as? String ?? "?", $0["first_seen"] as? String ?? "?")
        })
        #expect(seen2 == ["worker/util.py": "2026-01-10T08:00:00Z", "worker/new.py": "2026-01-13T08:00:00Z"])
        #expect(j2["scanned_at"] as? String == "2026-01-13T08:00:00Z")
        #expect((j2["summary"] as? [String: Any])?["oldest_first_seen"] as? String == "2026-01-10T08:00:00Z")

        // util.py put back: it is clean and forgotten; drifting again a day later starts afresh.
        try sh("git -C '\(f.upstream)' show HEAD:worker/util.py > worker/util.py", cwd: f.workspace)
        let r3 = try scan(at: t1.addingTimeInterval(4 * 86_400))
        #expect(seen(r3) == ["worker/new.py": "2026-01-13T08:00:00Z"])
        try sh("echo z >> worker/util.py", cwd: f.workspace)
        let r4 = try scan(at: t1.addingTimeInterval(5 * 86_400))
        #expect(seen(r4) == ["worker/new.py": "2026-01-13T08:00:00Z", "worker/util.py": "2026-01-15T08:00:00Z"])
        let st = try JSONDecoder().decode(DriftState.self, from: Data(try readWholeFile(f.state + "/state.json")))
        #expect(st.items.map { "\($0.path) \($0.firstSeen)" }
            == ["worker/new.py 2026-01-13T08:00:00Z", "worker/util.py 2026-01-15T08:00:00Z"])
        #expect(st.lastScan == "2026-01-15T08:00:00Z")
    }

    @Test("non-UTF-8 and newline names survive manifest, scan and JSON")
    func oddNames() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let ff = Array("\(f.workspace)/caf".utf8) + [0xFF] + Array(".py".utf8)
        let nl = Array("\(f.workspace)/two\nlines.py".utf8)
        try writeFile(bytesPath: ff, "a\n")
        try writeFile(bytesPath: nl, "b\n")
        try f.bake()
        let (r0, _) = try f.scan()
        #expect(r0.code == 0, "\(r0.out)")
        try writeFile(bytesPath: ff, "changed\n")
        try writeFile(bytesPath: nl, "changed\n")
        let (r, j) = try f.scan()
        #expect(r.code == 1)
        let byPath = files(j)
        let nlEntry = byPath.first { ($0["path"] as? String) == "two\nlines.py" }
        #expect(nlEntry?["change"] as? String == "modified")
        let ffEntry = byPath.first { $0["path_bytes"] != nil }
        let decoded = (ffEntry?["path_bytes"] as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        #expect(decoded == Array("caf".utf8) + [0xFF] + Array(".py".utf8))
        #expect(ffEntry?["change"] as? String == "modified")
    }

    @Test("a FIFO does not hang the scan and a link to / is not followed")
    func fifoAndRootLink() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("ln -s / rootlink && ln -s loop1 loop2 && ln -s loop2 loop1", cwd: f.workspace)
        try f.bake()
        try sh("mkfifo pipe", cwd: f.workspace)
        let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json"], timeout: 30)
        #expect(r.code == 1)
        let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(changes(j) == ["pipe": "added"])
        #expect(files(j).first?["new_type"] as? String == "special")
        // Replacing a manifest file by a FIFO is a type change, still never opened.
        try sh("rm worker/util.py && mkfifo worker/util.py", cwd: f.workspace)
        let r2 = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json", "--full"],
                           timeout: 30)
        let j2 = try JSONSerialization.jsonObject(with: Data(r2.out.utf8)) as! [String: Any]
        #expect(changes(j2)["worker/util.py"] == "type")
        let m = try String(contentsOfFile: f.mdir + "/manifest.txt", encoding: .utf8)
        #expect(m.contains(" rootlink /"))
        #expect(!m.contains("rootlink/"))
    }

    @Test("manifest create and scan leave the root byte-for-byte untouched")
    func rootUntouched() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let snap = "find . -printf '%p %s %T@ %m %y\\n' | sort; find . -type f -print0 | sort -z | xargs -0 sha256sum"
        try sh("echo hotfix >> worker/main.py", cwd: f.workspace)
        let before = try sh(snap, cwd: f.workspace)
        try f.bake()
        _ = try f.scan()
        _ = try f.scan()
        #expect(try sh(snap, cwd: f.workspace) == before)
        // State or output under the root is refused.
        let r = try drift(["scan", "--manifest", f.mdir, "--state", f.workspace + "/st"])
        #expect(r.code == 2)
        #expect(r.err.contains("never writes under the root"))
        #expect(!FileManager.default.fileExists(atPath: f.workspace + "/st"))
    }

    @Test("truncated, altered or missing manifests and garbage policies exit 2 with one line")
    func badManifests() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let mfile = f.mdir + "/manifest.txt"
        let good = try readWholeFile(mfile)
        func scan2() throws -> Run {
            let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state])
            #expect(r.code == 2, "\(r.out)")
            #expect(r.err.split(separator: "\n").count == 1, "\(r.err)")
            return r
        }
        try Data(good.prefix(good.count / 2)).write(to: URL(fileURLWithPath: mfile))
        #expect(try scan2().err.contains("manifest.txt"))
        var flipped = good
        flipped[good.count / 3] ^= 0x01
        try Data(flipped).write(to: URL(fileURLWithPath: mfile))
        #expect(try scan2().err.contains("checksum"))
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: mfile))
        _ = try scan2()
        try FileManager.default.removeItem(atPath: mfile)
        _ = try scan2()
        try Data(good).write(to: URL(fileURLWithPath: mfile))
        try write(f.mdir + "/policy.yaml", "ignore: [\n")
        #expect(try scan2().err.contains("policy"))
        // manifest create with a garbage policy.
        try write(f.dir.sub("bad.yaml"), "classes:\n  - x\n")
        let r = try drift(["manifest", "create", "--root", f.workspace, "--repo", f.upstream,
                           "--output", f.dir.sub("m2"), "--policy", f.dir.sub("bad.yaml")])
        #expect(r.code == 2)
        #expect(r.err.contains("bad.yaml:1:"))
        // Unknown flags are usage errors, also exit 2.
        #expect(try drift(["scan", "--bogus"]).code == 2)
    }

    @Test("manifest is deterministic: the same tree gives identical bytes")
    func deterministic() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        let a = try readWholeFile(f.mdir + "/manifest.txt")
        try f.bake()
        #expect(try readWholeFile(f.mdir + "/manifest.txt") == a)
    }

    @Test("an unreadable directory is reported in errors and the scan goes on (exit 3)")
    func unreadable() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        // Root reads everything: run the scan as nobody, the one unreadable entry being `config`.
        try sh("chmod -R a+rX '\(f.dir.path)' && chmod 000 config && mkdir -p '\(f.state)'"
               + " && chown 65534 '\(f.state)'", cwd: f.workspace)
        let asNobody = getuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        let r = try run(asNobody + [driftBinary(), "scan", "--manifest", f.mdir, "--state", f.state,
                                    "--format", "json"])
        try sh("chmod 755 config", cwd: f.workspace)
        #expect(r.code == 3, "\(r.err)")
        let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect((j["errors"] as? [[String: Any]])?.first?["path"] as? String == "config")
        #expect(files(j).isEmpty, "entries under an unreadable directory are unknown, not deleted")
    }
}
