import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Per-path stat and hash from earlier scans, so an unchanged file is never reopened.
///
/// Binary file `statcache` in the state dir (docs/state.md). It is only an optimisation:
/// a missing, foreign or damaged cache is ignored and everything is rehashed.
public struct StatCache: Sendable {
    public struct Entry: Sendable, Equatable {
        var size: Int64
        var mtimeNs: Int64
        var ctimeNs: Int64
        var inode: UInt64
        var device: UInt64
        var digest: Digest

        /// Whether `st` is the very same file version this entry was hashed from.
        func matches(_ st: FileStat) -> Bool {
            st.size == size && st.mtimeNs == mtimeNs && st.ctimeNs == ctimeNs
                && st.inode == inode && st.device == device
        }
    }

    static let magic: [UInt8] = Array("DRIFTSC1".utf8)
    /// A file changed less than this before it was hashed may change again within the
    /// same timestamp tick (coarse kernel clocks): it is stored but rehashed next time.
    static let racyMarginNs: Int64 = 2_000_000_000

    /// One cached path.
    public struct Record: Sendable, Equatable {
        public var path: [UInt8]
        public var entry: Entry
    }

    /// Sorted by path bytes, so lookups in walk order need no hashing of paths. Stored flat
    /// (`Records`: one byte buffer of paths), not one heap object per path.
    public var entries = Records()
    /// Which base and log this cache was read from (`StatCacheLog`); nil for one built by a scan.
    var origin: Origin?

    public init() {}

    /// The entry for a file hashed at `hashedAtNs`, or nil when it is racily clean
    /// (changed too close to the hash to trust its stat next time).
    public static func entry(_ st: FileStat, _ digest: Digest, hashedAtNs: Int64) -> Entry? {
        guard st.mtimeNs < hashedAtNs - racyMarginNs, st.ctimeNs < hashedAtNs - racyMarginNs else { return nil }
        return Entry(size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs,
                     inode: st.inode, device: st.device, digest: digest)
    }

    /// Appends an entry; paths must come in increasing byte order.
    public mutating func record(_ path: [UInt8], _ st: FileStat, _ digest: Digest, hashedAtNs: Int64) {
        if let e = Self.entry(st, digest, hashedAtNs: hashedAtNs) { entries.append(path, e) }
    }

    /// Looks paths up in increasing byte order with one forward pass.
    public struct Cursor {
        var index = 0
        public init() {}

        /// The cached entry for `path`, when its stat matches `st`.
        mutating func digest(_ cache: StatCache, _ path: [UInt8], _ st: FileStat) -> Entry? {
            let r = cache.entries
            let n = r.count
            index = r.lowerBound(path, from: index)
            guard index < n, r.comparePath(index, path) == 0 else { return nil }
            let e = r.entry(index)
            return e.matches(st) ? e : nil
        }

        /// The record index for `path` (cursor moved past the paths before it), whatever its stat.
        mutating func find(_ cache: StatCache, _ path: [UInt8]) -> Int? {
            let r = cache.entries
            index = r.lowerBound(path, from: index)
            return index < r.count && r.comparePath(index, path) == 0 ? index : nil
        }
    }

    /// The 32 digest bytes at `at` (in bounds), read as the big-endian words `Digest` keeps.
    private static func digest(_ bytes: [UInt8], at: Int) -> Digest {
        bytes.withUnsafeBytes { b in
            func word(_ k: Int) -> UInt64 {
                UInt64(bigEndian: b.loadUnaligned(fromByteOffset: at + 8 * k, as: UInt64.self))
            }
            return Digest(words: word(0), word(1), word(2), word(3))
        }
    }

    /// A serialized record's bytes besides its path: the path's length, five stat words, the digest.
    static let recordFixedBytes = 8 + 5 * 8 + 32

    func serialized() throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.magic.count + 8 + entries.count * Self.recordFixedBytes + entries.paths.count + 32)
        try serialize { out += $0 }
        return out
    }

    /// The serialized cache in pieces of about `chunk` bytes, the last piece its checksum
    /// (which it returns): a base of 200,000 records is never held whole (24 MB of peak memory).
    @discardableResult
    func serialize(chunk: Int = 1 << 20, into emit: ([UInt8]) throws -> Void) throws -> Digest {
        let hasher = try SHA256Hasher()
        var out = Self.magic
        out.reserveCapacity(chunk + 4096)
        func flush() throws {
            if out.isEmpty { return }
            try hasher.update(out)
            try emit(out)
            out.removeAll(keepingCapacity: true)
        }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u64(UInt64(entries.count))
        for i in entries.indices {
            let e = entries.entry(i)
            entries.withPath(i) { p in
                u64(UInt64(p.count))
                out.append(contentsOf: p)
            }
            u64(UInt64(bitPattern: e.size))
            u64(UInt64(bitPattern: e.mtimeNs))
            u64(UInt64(bitPattern: e.ctimeNs))
            u64(e.inode)
            u64(e.device)
            out.append(contentsOf: e.digest.bytes)
            if out.count >= chunk { try flush() }
        }
        try flush()
        let sum = try hasher.finish()
        try emit(sum.bytes)
        return sum
    }

    /// Parses a cache; nil when it is damaged in any way (the caller just rehashes).
    public static func parse(_ bytes: [UInt8]) -> StatCache? {
        guard bytes.count >= magic.count + 8 + 32, bytes.starts(with: magic) else { return nil }
        let body = bytes[0..<(bytes.count - 32)]
        guard let h = try? SHA256Hasher(),
              (try? bytes.withUnsafeBytes { try h.update($0.baseAddress!, body.count) }) != nil,
              let sum = try? h.finish(), sum.bytes == Array(bytes[(bytes.count - 32)...]) else { return nil }
        var i = magic.count
        func u64() -> UInt64? {
            guard i + 8 <= body.count else { return nil }
            let v = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt64.self)) }
            i += 8
            return v
        }
        guard let count = u64(), count < 100_000_000 else { return nil }
        var cache = StatCache()
        // Every byte but the fixed fields is a path's: reserved exactly, once (a third of the
        // file, as was, fell short for 53-byte paths and doubled: 7 MB wasted at 200,000 files).
        let fixed = magic.count + 8 + Int(min(count, UInt64(body.count))) * recordFixedBytes
        cache.entries.reserve(Int(min(count, UInt64(body.count / 104 + 1))), pathBytes: max(0, body.count - fixed))
        for _ in 0..<count {
            guard let len = u64(), len < 1 << 20, i + Int(len) <= body.count else { return nil }
            let at = i
            i += Int(len)
            guard let size = u64(), let mt = u64(), let ct = u64(), let ino = u64(), let dev = u64(),
                  i + 32 <= body.count else { return nil }
            let d = Self.digest(bytes, at: i)
            i += 32
            let e = Entry(size: Int64(bitPattern: size), mtimeNs: Int64(bitPattern: mt),
                          ctimeNs: Int64(bitPattern: ct), inode: ino, device: dev, digest: d)
            let ordered = bytes.withUnsafeBufferPointer { b in
                cache.entries.appendIfAfterLast(UnsafeBufferPointer(rebasing: b[at..<(at + Int(len))]), e)
            }
            if !ordered { return nil }
        }
        guard i == body.count else { return nil }
        return cache
    }
}
