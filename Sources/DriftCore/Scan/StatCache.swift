import Foundation

/// Per-path stat and hash from earlier scans, so an unchanged file is never reopened.
///
/// Binary file `statcache` in the state dir (docs/state.md). It is only an optimisation:
/// a missing, foreign or damaged cache is ignored and everything is rehashed.
public struct StatCache: Sendable {
    public struct Entry: Sendable, Equatable {
        public var size: Int64
        public var mtimeNs: Int64
        public var ctimeNs: Int64
        public var inode: UInt64
        public var device: UInt64
        public var digest: Digest

        /// Whether `st` is the very same file version this entry was hashed from.
        public func matches(_ st: FileStat) -> Bool {
            st.size == size && st.mtimeNs == mtimeNs && st.ctimeNs == ctimeNs && st.inode == inode && st.device == device
        }
    }

    static let magic: [UInt8] = Array("DRIFTSC1".utf8)
    /// A file changed less than this before it was hashed may change again within the
    /// same timestamp tick (coarse kernel clocks): it is stored but rehashed next time.
    public static let racyMarginNs: Int64 = 2_000_000_000

    public var entries: [[UInt8]: Entry] = [:]

    public init() {}

    /// Adds an entry hashed at `hashedAtNs`; racily-clean entries are not kept.
    public mutating func record(_ path: [UInt8], _ st: FileStat, _ digest: Digest, hashedAtNs: Int64) {
        guard st.mtimeNs < hashedAtNs - Self.racyMarginNs, st.ctimeNs < hashedAtNs - Self.racyMarginNs else {
            entries[path] = nil
            return
        }
        entries[path] = Entry(size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs,
                              inode: st.inode, device: st.device, digest: digest)
    }

    /// The cached digest when `st` matches what was hashed.
    public func digest(for path: [UInt8], _ st: FileStat) -> Digest? {
        guard let e = entries[path], e.matches(st) else { return nil }
        return e.digest
    }

    public func serialized() throws -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(entries.count * 100 + 64)
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u64(UInt64(entries.count))
        for (path, e) in entries.sorted(by: { PathBytes.less($0.key, $1.key) }) {
            u64(UInt64(path.count))
            out.append(contentsOf: path)
            u64(UInt64(bitPattern: e.size))
            u64(UInt64(bitPattern: e.mtimeNs))
            u64(UInt64(bitPattern: e.ctimeNs))
            u64(e.inode)
            u64(e.device)
            out.append(contentsOf: e.digest.bytes)
        }
        out.append(contentsOf: try SHA256Hasher.digest(out).bytes)
        return out
    }

    /// Parses a cache; nil when it is damaged in any way (the caller just rehashes).
    public static func parse(_ bytes: [UInt8]) -> StatCache? {
        guard bytes.count >= magic.count + 8 + 32, bytes.starts(with: magic) else { return nil }
        let body = bytes[0..<(bytes.count - 32)]
        guard let sum = try? SHA256Hasher.digest(Array(body)), sum.bytes == Array(bytes[(bytes.count - 32)...]) else { return nil }
        var i = magic.count
        func u64() -> UInt64? {
            guard i + 8 <= body.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            i += 8
            return v
        }
        guard let count = u64(), count < 100_000_000 else { return nil }
        var cache = StatCache()
        cache.entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let len = u64(), len < 1 << 20, i + Int(len) <= body.count else { return nil }
            let path = Array(bytes[i..<(i + Int(len))])
            i += Int(len)
            guard let size = u64(), let mt = u64(), let ct = u64(), let ino = u64(), let dev = u64(),
                  i + 32 <= body.count else { return nil }
            let d = Digest(bytes: Array(bytes[i..<(i + 32)]))
            i += 32
            cache.entries[path] = Entry(size: Int64(bitPattern: size), mtimeNs: Int64(bitPattern: mt),
                                        ctimeNs: Int64(bitPattern: ct), inode: ino, device: dev, digest: d)
        }
        guard i == body.count else { return nil }
        return cache
    }
}
