import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Every cache is re-verified on a rotating slice bounded in time (issue 28): a forged record
/// in `pipcache` (a same-size library edit; a site-packages pyc) or `pyccache` (a workspace
/// pyc) is found within `ReverifySlice.period` of scans, here at `drift watch`'s hourly cadence.
@Suite("cache re-verification in time")
struct CacheReverifyTests {
    /// Writes a pyc for `source` that carries other code under the source's own header
    /// (mtime and size), as an attacker would: Python loads it without a recompile.
    static func forgePyc(source: String, pyc: String, python: String = "python3") throws {
        let script = "import importlib._bootstrap_external as b, os, sys\n"
            + "s = os.stat(sys.argv[1])\n"
            + "c = compile('EVIL = True\\n', sys.argv[1], 'exec')\n"
            + "open(sys.argv[2], 'wb').write(b._code_to_timestamp_pyc(c, s.st_mtime, s.st_size))\n"
        let r = try run([python, "-c", script, source, pyc])
        if r.code != 0 { throw DriftError("forging \(pyc) failed: \(r.err)") }
    }

    /// Rewrites the record of the path ending in `suffix` in a cache file of the state dir with
    /// the file's stat now and `digest` (nil: the digest of its bytes now).
    static func forgeRecord(_ cacheFile: String, suffix: String, file: String, digest: Digest? = nil) throws {
        let tail = Array(suffix.utf8).reversed()
        guard var cache = StatCache.parse(try readWholeFile(cacheFile)),
              let k = cache.entries.firstIndex(where: { $0.path.reversed().starts(with: tail) }) else {
            throw DriftError("\(suffix) is not in \(cacheFile)")
        }
        guard case .success(let st) = lstatBytes(Array(file.utf8)) else { throw DriftError("\(file): no stat") }
        let d = try digest ?? SHA256Hasher.digest(try readWholeFile(file))
        cache.entries[k].entry = StatCache.Entry(size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs,
                                                 inode: st.inode, device: st.device, digest: d)
        try AtomicFile.write(try cache.serialized(), to: cacheFile, mode: 0o600)
    }

    static func at(_ hours: Int) -> String {
        Timestamp.format(Date(timeIntervalSince1970: 1_780_000_000 + Double(hours) * 3600))
    }

    @Test("forged pipcache records (library edit, site pyc) and a forged pyccache record: found within 6 hours",
          .enabled(if: Wheels.available(), "PyPI unreachable: wheels could not be fetched"))
    func forgedCaches() throws {
        let f = try Fixture(requirements: "# pins\nsix==1.16.0\ntoml==0.10.1\n")
        defer { f.dir.remove() }
        let venv = f.dir.sub("venv")
        // The venv is made by the interpreter drift trusts (/usr/bin), so a forged pyc is judged
        // forged: a verifier of another micro version (pyenv's python3 on PATH) only says unverifiable.
        let maker = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
        try run([maker, "-m", "venv", venv])
        let python = venv + "/bin/python"
        #expect(try run([python, "-m", "pip", "-q", "--disable-pip-version-check", "install", "--no-index",
                         "--find-links", Wheels.dir, "six==1.16.0", "toml==0.10.1"]).code == 0)
        let sp = try sh("'\(python)' -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try sh("'\(python)' -c 'import six, toml'")
        // Old files, so the first scan caches them (no racy-clean margin).
        try sh("find . -exec touch -h -d '-1 hour' {} +", cwd: f.workspace)
        try sh("find '\(venv)' -exec touch -h -d '-1 hour' {} +")
        try f.bake(["--site-packages", sp])
        // A legitimate workspace pyc: verified once, its verdict cached in pyccache.
        try sh("'\(python)' -m py_compile worker/util.py && touch -h -d '-1 hour' worker/__pycache__/*",
               cwd: f.workspace)
        usleep(2_100_000)  // past the racy-clean margin (ctime cannot be set back)
        func scan(_ hour: Int) throws -> (Run, [String: Any]) {
            let r = try drift(["scan", "--manifest", f.mdir, "--state", f.state, "--format", "json"],
                              env: ["DRIFT_TEST_NOW": Self.at(hour)])
            let j = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
            return (r, j)
        }
        let (r0, j0) = try scan(0)
        // The legitimate pyc is no drift; its verdict is cached.
        #expect(r0.code == 0, "\(r0.err) \(changes(j0))")
        #expect(StatCache.parse(try readWholeFile(f.state + "/pyccache"))?.entries.count == 1)
        #expect((j0["pip"] as? [Any])?.isEmpty == true, "\(j0["pip"] ?? "")")

        // 1. A same-size edit of six.py, its pipcache record forged (new stat, old digest).
        let six = sp + "/six.py"
        guard let sixRecord = StatCache.parse(try readWholeFile(f.state + "/pipcache"))?.entries
            .first(where: { $0.path.reversed().starts(with: Array("/six.py".utf8).reversed()) }) else {
            Issue.record("six.py is not in the pipcache")
            return
        }
        var bytes = try readWholeFile(six)
        bytes[2] = bytes[2] == UInt8(ascii: "X") ? UInt8(ascii: "Y") : UInt8(ascii: "X")
        try Data(bytes).write(to: URL(fileURLWithPath: six))
        try Self.forgeRecord(f.state + "/pipcache", suffix: "/six.py", file: six, digest: sixRecord.entry.digest)
        // 2. A forged toml pyc in site-packages, its pipcache verdict forged to its new bytes.
        let tomlPyc = try sh("ls '\(sp)'/toml/__pycache__/decoder.*.pyc")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.forgePyc(source: sp + "/toml/decoder.py", pyc: tomlPyc, python: python)
        try Self.forgeRecord(f.state + "/pipcache", suffix: "/toml/__pycache__/"
                             + (tomlPyc as NSString).lastPathComponent, file: tomlPyc)
        // 3. A forged workspace pyc, its statcache and pyccache records forged to its new bytes.
        let wsPyc = try sh("ls '\(f.workspace)'/worker/__pycache__/util.*.pyc")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let wsRel = "worker/__pycache__/" + (wsPyc as NSString).lastPathComponent
        try Self.forgePyc(source: f.workspace + "/worker/util.py", pyc: wsPyc, python: python)
        try Self.forgeRecord(f.state + "/statcache", suffix: wsRel, file: wsPyc)
        try Self.forgeRecord(f.state + "/pyccache", suffix: wsRel, file: wsPyc)

        var found: [String: Int] = [:]
        for hour in 1...7 {
            let (r, j) = try scan(hour)
            #expect(r.code == 1, "\(r.err)")
            let pip = (j["pip"] as? [[String: Any]]) ?? []
            let pipFiles = pip.flatMap { ($0["files"] as? [String]) ?? [] }
            if pipFiles.contains(PathBytes.display(text: six)) { found["six.py"] = min(found["six.py"] ?? hour, hour) }
            if pipFiles.contains(where: { $0.hasSuffix(" (bytecode)") && $0.contains("toml/__pycache__/decoder") }) {
                found["toml pyc"] = min(found["toml pyc"] ?? hour, hour)
            }
            if changes(j)[wsRel] == "bytecode" { found["workspace pyc"] = min(found["workspace pyc"] ?? hour, hour) }
        }
        for what in ["six.py", "toml pyc", "workspace pyc"] {
            let hour = found[what]
            #expect(hour != nil && hour! <= 6, "\(what): found at hour \(hour.map(String.init) ?? "never") \(found)")
        }
    }

    @Test("the ring: every slot is re-checked once the clock has moved a whole period, in any cadence")
    func ringCoverage() {
        let slots = (0..<3_000).map { ReverifySlice.slot(Array("lib/m\($0).py".utf8)) }
        let start = Date(timeIntervalSince1970: 1_780_000_123)
        for step in [300.0, 3_600.0, 5_000.0] {
            var covered = Set<Int>()
            var last = start
            var t = start
            while t.timeIntervalSince(start) < ReverifySlice.period {
                t = t.addingTimeInterval(step)
                let slice = ReverifySlice(every: 1_000_000, scan: 0, last: last, now: t)
                for (k, s) in slots.enumerated() where slice.contains(slot: s) { covered.insert(k) }
                last = t
            }
            #expect(covered.count == slots.count, "step \(step): \(covered.count) of \(slots.count)")
        }
        // A 5-minute scan re-checks about 5/360 of the files; a whole period's gap, all of them.
        let five = ReverifySlice(every: 1_000_000, scan: 0, last: start, now: start.addingTimeInterval(300))
        let share = Double(slots.filter { five.contains(slot: $0) }.count) / Double(slots.count)
        #expect(share > 0.005 && share < 0.03, "\(share)")
        let gap = ReverifySlice(every: 1_000_000, scan: 0, last: start, now: start.addingTimeInterval(6 * 3600))
        #expect(slots.allSatisfy { gap.contains(slot: $0) })
    }
}
