import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// The stat cache as a base file plus an append-only log (docs/state.md, "Stat cache").
@Suite("Stat cache log")
struct StatCacheLogTests {
    static func entry(_ k: Int) throws -> StatCache.Entry {
        StatCache.Entry(size: Int64(k), mtimeNs: 1, ctimeNs: 2, inode: UInt64(k), device: 4,
                        digest: try SHA256Hasher.digest(Array("\(k)".utf8)))
    }

    static func cache(_ n: Int, bump: Set<Int> = [], drop: Set<Int> = []) throws -> StatCache {
        var c = StatCache()
        for k in 0..<n where !drop.contains(k) {
            let path = Array(String(format: "dir/f%07d.py", k).utf8)
            c.entries.append(StatCache.Record(path: path, entry: try entry(bump.contains(k) ? k + 1_000_000 : k)))
        }
        return c
    }

    static func size(_ path: String) -> Int? {
        (try? FileSystem.lstat(path)).map { Int($0.size) }
    }

    @Test("ten changed records of 20,000 are appended (bytes ~ records), the base stays; a new base past the bound")
    func appendsThenCompacts() throws {
        let d = try TempDir("sclog")
        defer { d.remove() }
        let dir = StateDirectory(path: d.path)
        let base = d.path + "/statcache", log = d.path + "/statcache.log"
        try dir.saveCache(try Self.cache(20_000), old: nil)
        let baseStat = try FileSystem.lstat(base)
        #expect(Self.size(log) == nil)
        // Ten edits: one frame of ten records, whatever the cache's size.
        var old = try #require(try dir.loadCache())
        var want = try Self.cache(20_000, bump: Set(0..<10))
        try dir.saveCache(want, old: old)
        let appended = try #require(Self.size(log))
        #expect(appended < 2_000, "ten records cost \(appended) bytes")
        #expect(try FileSystem.lstat(base) == baseStat, "the base was rewritten")
        #expect(try dir.loadCache()?.entries == want.entries)
        // A removal and an addition fold the same way.
        old = try #require(try dir.loadCache())
        want = try Self.cache(20_000, bump: Set(0..<10), drop: [5, 6])
        want.entries.append(StatCache.Record(path: Array("zz/new.py".utf8), entry: try Self.entry(7)))
        try dir.saveCache(want, old: old)
        #expect(try dir.loadCache()?.entries == want.entries)
        #expect(try FileSystem.lstat(base) == baseStat)
        // Unchanged: nothing written at all.
        let logStat = try FileSystem.lstat(log)
        try dir.saveCache(want, old: try dir.loadCache())
        #expect(try FileSystem.lstat(log) == logStat)
        // Past the bound (an eighth of the base, at least 64 KiB): a new base, no log.
        var k = 100
        while Self.size(log) != nil && k < 20_000 {
            old = try #require(try dir.loadCache())
            want = try Self.cache(20_000, bump: Set(0..<k), drop: [5, 6])
            try dir.saveCache(want, old: old)
            #expect(try dir.loadCache()?.entries == want.entries)
            k += 500
        }
        #expect(Self.size(log) == nil && k < 20_000, "never compacted")
        #expect(try FileSystem.lstat(base) != baseStat)
        #expect(StatCache.parse(try readWholeFile(base))?.entries == want.entries)
    }

    @Test("a torn last record is ignored and cut off; a log of another base is ignored and removed")
    func tornAndStale() throws {
        let d = try TempDir("sclog")
        defer { d.remove() }
        let dir = StateDirectory(path: d.path)
        let log = d.path + "/statcache.log"
        try dir.saveCache(try Self.cache(1_000), old: nil)
        let one = try Self.cache(1_000, bump: [1])
        try dir.saveCache(one, old: try dir.loadCache())
        let good = try readWholeFile(log)
        // Half of a second frame: what a crash mid-append leaves.
        let two = try Self.cache(1_000, bump: [1, 2])
        let frame = try AppendLog.frame(StatCache.encodeDelta(StatCache.delta(from: one.entries, to: two.entries)))
        try Data(good + frame.prefix(frame.count / 2)).write(to: URL(fileURLWithPath: log))
        let loaded = try #require(try dir.loadCache())
        #expect(loaded.entries == one.entries)
        #expect(loaded.origin?.logDamaged == true)
        // The next save appends after the last whole frame: the log is the clean run's bytes.
        try dir.saveCache(two, old: loaded)
        let clean = good + frame
        #expect(try readWholeFile(log) == clean)
        #expect(try dir.loadCache()?.entries == two.entries)
        // A flipped byte inside a frame: that frame and what follows are not read.
        var flipped = clean
        flipped[good.count + 10] ^= 0x55
        try Data(flipped).write(to: URL(fileURLWithPath: log))
        #expect(try dir.loadCache()?.entries == one.entries)
        // A log written for another base (a crash between a new base and the log's removal).
        try Data(clean).write(to: URL(fileURLWithPath: log))
        try AtomicFile.write(try Self.cache(999).serialized(), to: d.path + "/statcache", mode: 0o600)
        let fresh = try #require(try dir.loadCache())
        #expect(fresh.entries == (try Self.cache(999)).entries)
        try dir.saveCache(fresh, old: fresh)
        #expect(Self.size(log) == nil, "a stale log is removed by the next save")
    }

    @Test("a scan after 10 edits appends to statcache.log instead of rewriting statcache; reports equal --full")
    func scanAppends() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try sh("mkdir -p lib && for i in $(seq 1 300); do echo \"v = $i\" > lib/m$i.py; done", cwd: f.workspace)
        try StatCacheTests.age(f)
        try f.bake()
        _ = try f.scan()
        let base = f.state + "/statcache", log = f.state + "/statcache.log"
        let baseStat = try FileSystem.lstat(base)
        let baseSize = Int(baseStat.size)
        try sh("for i in $(seq 1 10); do echo '# edit' >> lib/m$i.py; done", cwd: f.workspace)
        usleep(UInt32((StatCache.racyMarginNs / 1000) + 200_000))  // so the edits are cached
        let (r, j) = try f.scan()
        #expect(r.code == 1, "\(r.err)")
        #expect(try FileSystem.lstat(base) == baseStat, "statcache was rewritten")
        let logSize = try #require(Self.size(log))
        #expect(logSize < baseSize / 4, "log \(logSize) B against a \(baseSize) B base")
        // Read back: the next scan hashes only its re-verification slice, and says the same as --full.
        let (_, j2) = try f.scan()
        let hashed = (j2["summary"] as? [String: Any])?["hashed"] as? Int ?? -1
        #expect(hashed >= 0 && hashed < 60, "hashed \(hashed) of 310")
        let (_, full) = try f.scan(["--full"])
        #expect(StatCacheTests.stable(j) == StatCacheTests.stable(full))
        #expect(changes(j).count == 10)
        // --full writes a new base and no log.
        #expect(Self.size(log) == nil)
    }

    @Test("edits in place (replace, remove, insert at the ends and beside a removal) equal a sorted rebuild")
    func patchInPlace() throws {
        let base = try Self.cache(1_000)
        var changes: [[UInt8]: StatCache.Entry?] = [:]
        func key(_ s: String) -> [UInt8] { Array(s.utf8) }
        for k in [0, 3, 4, 500, 999] { changes[key(String(format: "dir/f%07d.py", k))] = .some(try Self.entry(k + 7)) }
        for k in [1, 2, 250, 998] { changes[key(String(format: "dir/f%07d.py", k))] = .some(nil) }
        for p in ["a/first.py", "dir/f0000002x.py", "dir/f0000250.py~", "dir/f0000499z", "zz/last.py"] {
            changes[key(p)] = .some(try Self.entry(p.count))
        }
        changes[key("dir/absent-removal.py")] = .some(nil)
        // The reference: every record as a dictionary, changed, sorted again.
        var all: [[UInt8]: StatCache.Entry] = [:]
        for r in base.entries { all[r.path] = r.entry }
        for (p, e) in changes { all[p] = e }
        let want = StatCache.Records(all.keys.sorted(by: bytesLess).map { StatCache.Record(path: $0, entry: all[$0]!) })
        var patched = base
        patched.apply(changes)
        #expect(patched.entries == want)
        #expect(base.entries == (try Self.cache(1_000)).entries, "the shared source was edited")
        // The delta between source and patch is exactly the changes that change something.
        let delta = StatCache.delta(from: base.entries, to: patched.entries)
        #expect(delta.count == changes.count - 1)
        for (p, e) in delta { #expect(changes[p] == .some(e)) }
        // Replacements only: the path bytes stay shared, the delta compares spans.
        var replaced = base
        replaced.apply([key("dir/f0000010.py"): .some(try Self.entry(1))])
        #expect(replaced.entries.sharesPaths(with: base.entries))
        #expect(StatCache.delta(from: base.entries, to: replaced.entries).map(\.0) == [key("dir/f0000010.py")])
        #expect(replaced.entries != base.entries)
    }

    @Test("a patch plan's delta (what a scan appends) is the delta between the records and their patch, in path order")
    func planDelta() throws {
        let base = try Self.cache(1_000)
        let removed: Set<Int> = [1, 2, 250, 998]
        var plan = Scanner.PatchPlan()
        for k in [0, 1, 2, 3, 250, 500, 998, 999] {
            plan.replace.append((k, removed.contains(k) ? nil : try Self.entry(k + 7)))
        }
        // At the front, beside a removal, right after a removed record, at the end.
        for p in ["a/first.py", "dir/f0000002x.py", "dir/f0000250.py~", "zz/last.py"] {
            let path = Array(p.utf8)
            plan.insert.append((base.entries.lowerBound(path), path, try Self.entry(p.count)))
        }
        var patched = base
        patched.entries.patch(replace: plan.replace, insert: plan.insert)
        let want = StatCache.delta(from: base.entries, to: patched.entries)
        let got = plan.delta(base.entries)
        #expect(want.count == 12)
        #expect(got.map(\.0) == want.map(\.0))
        #expect(got.map(\.1) == want.map(\.1))
    }
}
