import DriftGit
import DriftSystem

/// The manifest's entries in one flat byte buffer: fixed 64-byte records and the path and
/// link-target bytes after them. This buffer is also the file `manifest.idx`
/// (docs/manifest-format.md), so loading the index is one read, no parse.
///
/// No heap object per path (an array of `ManifestEntry` holds one per path and target), and
/// the scan's merge join compares paths in place, allocating nothing.
public struct ManifestTable: RandomAccessCollection, Sendable {
    static let magic: [UInt8] = Array("DRIFTMX1".utf8)
    static let headerSize = 24
    static let recordSize = 64
    /// Target length meaning "no target" (a regular file).
    static let noTarget: UInt32 = .max

    /// Layout: magic, u64 count, u64 blob size, records, blob (all little-endian).
    public private(set) var bytes: [UInt8]
    public let count: Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    /// An empty table.
    public init() {
        self.init([])
    }

    /// Builds the table from entries already sorted by path bytes.
    public init(_ entries: [ManifestEntry]) {
        var out = [UInt8]()
        let blob = entries.reduce(0) { $0 + $1.path.count + ($1.target?.count ?? 0) }
        out.reserveCapacity(Self.headerSize + entries.count * Self.recordSize + blob)
        out += Self.magic
        Self.put(&out, UInt64(entries.count))
        Self.put(&out, UInt64(blob))
        var offset: UInt64 = 0
        for e in entries {
            Self.put(&out, offset | UInt64(e.path.count) << 32)
            offset += UInt64(e.path.count)
            if let t = e.target {
                Self.put(&out, offset | UInt64(t.count) << 32)
                offset += UInt64(t.count)
            } else {
                Self.put(&out, UInt64(Self.noTarget) << 32)
            }
            Self.put(&out, UInt64(bitPattern: e.size))
            Self.put(&out, UInt64(e.kind == .symlink ? 1 : 0) | UInt64(e.executable ? 1 : 0) << 8)
            let w = e.digest.words
            for word in [w.0, w.1, w.2, w.3] { Self.put(&out, word) }
        }
        for e in entries {
            out += e.path
            if let t = e.target { out += t }
        }
        bytes = out
        count = entries.count
    }

    /// Reads a serialised table, checking every offset, kind and the path order; nil when
    /// anything is off (the caller names the file).
    public init?(serialized b: [UInt8]) {
        guard b.count >= Self.headerSize, b.starts(with: Self.magic) else { return nil }
        let n = Self.get(b, 8), blob = Self.get(b, 16)
        guard n < 100_000_000, blob < 1 << 32 else { return nil }
        let base = Self.headerSize + Int(n) * Self.recordSize
        guard b.count == base + Int(blob) else { return nil }
        bytes = b
        count = Int(n)
        for i in 0..<count {
            let r = Self.headerSize + i * Self.recordSize
            let (po, pl) = Self.span(Self.get(b, r))
            let (to, tl) = Self.span(Self.get(b, r + 8))
            let flags = Self.get(b, r + 24)
            guard pl > 0, po + pl <= Int(blob), flags & ~0x101 == 0 else { return nil }
            let link = flags & 1 == 1
            if link {
                guard tl != Int(Self.noTarget), to + tl <= Int(blob) else { return nil }
            } else if tl != Int(Self.noTarget) {
                return nil
            }
            if i > 0 && comparePath(i - 1, i) >= 0 { return nil }
        }
    }

    /// The entry at `i` (allocates its path; the scan uses the accessors below instead).
    public subscript(i: Int) -> ManifestEntry {
        let r = record(i)
        let (to, tl) = Self.span(Self.get(bytes, r + 8))
        let flags = Self.get(bytes, r + 24)
        let target: [UInt8]? = tl == Int(Self.noTarget) ? nil : Array(bytes[(blobStart + to)..<(blobStart + to + tl)])
        return ManifestEntry(path: path(i), kind: flags & 1 == 1 ? .symlink : .regular,
                             executable: flags & 0x100 != 0, size: size(i), digest: digest(i), target: target)
    }

    public func path(_ i: Int) -> [UInt8] {
        let (o, l) = Self.span(Self.get(bytes, record(i)))
        return Array(bytes[(blobStart + o)..<(blobStart + o + l)])
    }

    func kind(_ i: Int) -> FileKind { Self.get(bytes, record(i) + 24) & 1 == 1 ? .symlink : .regular }
    func executable(_ i: Int) -> Bool { Self.get(bytes, record(i) + 24) & 0x100 != 0 }
    func size(_ i: Int) -> Int64 { Int64(bitPattern: Self.get(bytes, record(i) + 16)) }

    func digest(_ i: Int) -> Digest {
        let r = record(i) + 32
        return Digest(words: Self.get(bytes, r), Self.get(bytes, r + 8), Self.get(bytes, r + 16),
                      Self.get(bytes, r + 24))
    }

    /// memcmp order of entry `i`'s path against `key` (negative: the entry sorts first).
    func comparePath(_ i: Int, _ key: [UInt8]) -> Int {
        let (o, l) = Self.span(Self.get(bytes, record(i)))
        let start = blobStart + o
        return bytes.withUnsafeBufferPointer { b in
            key.withUnsafeBufferPointer { k in
                let n = Swift.min(l, k.count)
                let c = n == 0 ? 0 : compareMemory(b.baseAddress! + start, k.baseAddress!, n)
                return c != 0 ? c : l - k.count
            }
        }
    }

    /// The index of the first entry whose path does not sort before `key`.
    func lowerBound(_ key: [UInt8]) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if comparePath(mid, key) < 0 { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The index of `key`'s entry, if there is one.
    func index(of key: [UInt8]) -> Int? {
        let i = lowerBound(key)
        return i < count && comparePath(i, key) == 0 ? i : nil
    }

    private func comparePath(_ i: Int, _ j: Int) -> Int {
        let (oi, li) = Self.span(Self.get(bytes, record(i)))
        let (oj, lj) = Self.span(Self.get(bytes, record(j)))
        return bytes.withUnsafeBufferPointer { b in
            let n = Swift.min(li, lj)
            let c = n == 0 ? 0 : compareMemory(b.baseAddress! + blobStart + oi, b.baseAddress! + blobStart + oj, n)
            return c != 0 ? c : li - lj
        }
    }

    private var blobStart: Int { Self.headerSize + count * Self.recordSize }
    private func record(_ i: Int) -> Int { Self.headerSize + i * Self.recordSize }

    /// (offset, length) packed as low and high 32 bits.
    private static func span(_ v: UInt64) -> (Int, Int) { (Int(v & 0xFFFF_FFFF), Int(v >> 32)) }

    private static func put(_ out: inout [UInt8], _ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    @inline(__always)
    private static func get(_ b: [UInt8], _ at: Int) -> UInt64 {
        precondition(at >= 0 && at + 8 <= b.count)
        return b.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    }
}
