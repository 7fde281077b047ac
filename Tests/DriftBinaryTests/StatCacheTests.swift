import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

@Suite("Stat cache")
struct StatCacheTests {
    /// Reports minus the fields that legitimately differ between runs.
    static func stable(_ j: [String: Any]) -> String {
        var j = j
        j["scanned_at"] = nil
        var s = j["summary"] as? [String: Any] ?? [:]
        s["hashed"] = nil
        j["summary"] = s
        let d = try? JSONSerialization.data(withJSONObject: j, options: [.sortedKeys])
        return String(decoding: d ?? Data(), as: UTF8.self)
    }

    /// Ages every file so the racy-git margin does not force rehashing.
    static func age(_ f: Fixture) throws {
        try sh("find . -exec touch -h -d '2020-01-01 00:00:00' {} +", cwd: f.workspace)
        // ctime is now: wait out the racy-git margin so the cache may trust these stats.
        usleep(UInt32((StatCache.racyMarginNs / 1000) + 200_000))
    }

    @Test("same size, mtime restored with touch -d: caught through ctime")
    func sameSizeRestoredMtime() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try Self.age(f)
        try f.bake()
        let (_, j0) = try f.scan()
        let (_, j1) = try f.scan()
        #expect((j1["summary"] as? [String: Any])?["hashed"] as? Int == 0, "second scan reads nothing: \(j1)")
        #expect(j0["clean"] as? Bool == true)
        // Same length, other bytes, mtime put back.
        try sh("printf 'def helper(x):\\n    return x + 9\\n' > worker/util.py"
               + " && touch -d '2020-01-01 00:00:00' worker/util.py", cwd: f.workspace)
        let (r, j) = try f.scan()
        #expect(r.code == 1)
        #expect(changes(j) == ["worker/util.py": "modified"])
    }

    @Test("a deleted or garbage stat cache gives the same report")
    func cacheIsOnlyAnOptimisation() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try Self.age(f)
        try f.bake()
        try sh("echo x >> worker/util.py && rm config/settings.yaml && echo n > worker/new.py", cwd: f.workspace)
        let (_, a) = try f.scan()
        let (_, b) = try f.scan()
        try FileManager.default.removeItem(atPath: f.state + "/statcache")
        let (_, c) = try f.scan()
        try Data("DRIFTSC1 garbage garbage garbage garbage garbage garbage".utf8)
            .write(to: URL(fileURLWithPath: f.state + "/statcache"))
        let (_, d) = try f.scan()
        // A well-formed cache that lies (right checksum, wrong digest) cannot be built without
        // the checksum: flip a byte of a real one instead.
        var bytes = try readWholeFile(f.state + "/statcache")
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: f.state + "/statcache"))
        let (_, e) = try f.scan()
        #expect(Set([a, b, c, d, e].map(Self.stable)).count == 1)
        #expect(changes(a).count == 3)
    }

    @Test("two scans in a row give identical reports; --full too")
    func repeatable() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo x >> worker/main.py && chmod -x start_remote.sh", cwd: f.workspace)
        let (_, a) = try f.scan()
        let (_, b) = try f.scan()
        let (_, c) = try f.scan(["--full"])
        #expect(Self.stable(a) == Self.stable(b))
        #expect(Self.stable(a) == Self.stable(c))
    }

    @Test("serialisation round-trips and rejects damage")
    func roundTrip() throws {
        var c = StatCache()
        let st = FileStat(kind: .regular, mode: 0o100644, size: 5, mtimeNs: 1, ctimeNs: 2, inode: 3, device: 4)
        c.record(Array("a/b".utf8) + [0xFF], st, try SHA256Hasher.digest([1, 2, 3]), hashedAtNs: 10_000_000_000)
        let bytes = try c.serialized()
        #expect(StatCache.parse(bytes)?.entries == c.entries)
        #expect(StatCache.parse(Array(bytes.dropLast())) == nil)
        // A file changed within the racy margin is not cached.
        var r = StatCache()
        r.record([0x61], st, try SHA256Hasher.digest([1]), hashedAtNs: 1_000)
        #expect(r.entries.isEmpty)
    }
}
