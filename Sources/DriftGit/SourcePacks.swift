import CLibGit2
import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only, unmapped on deinit.
final class MappedFile {
    let base: UnsafeRawPointer
    let count: Int

    init?(path: [UInt8]) {
        let fd = withCPath(path) { open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 else { return nil }
        let p = mmap(nil, Int(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        base = UnsafeRawPointer(p)
        count = Int(st.st_size)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), count) }

    subscript(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }

    /// Big-endian 32-bit word at `i` (callers check bounds).
    func u32(_ i: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 8 | UInt32(self[i + k]) }
        return v
    }

    func u64(_ i: Int) -> UInt64 { UInt64(u32(i)) << 32 | UInt64(u32(i + 4)) }
}

/// One raw pack entry found in a source pack: enough to copy it without inflating.
public struct RawPackEntry {
    /// 1–4 for whole objects, 7 (REF_DELTA) for a delta (OFS_DELTA is rewritten).
    var type: Int
    /// The size field of the entry header (object or delta size).
    var size: UInt64
    /// The delta base, for type 7.
    var base: [UInt8]?
    /// The zlib stream, inside the mapped pack.
    var data: UnsafeRawBufferPointer
}

/// A version-2 `.idx` and its `.pack` from the source repository, mapped.
final class SourcePack {
    private let idx: MappedFile
    private let pack: MappedFile
    let count: Int
    /// Entry offsets in pack order, with their idx position (built on first use).
    private var byOffset: [(offset: UInt64, position: Int)] = []

    init?(idxPath: [UInt8], packPath: [UInt8]) {
        guard let i = MappedFile(path: idxPath), let p = MappedFile(path: packPath) else { return nil }
        // Header "\377tOc" version 2, then the fan-out table.
        guard i.count >= 8 + 1024 + 40, i.u32(0) == 0xff74_4f63, i.u32(4) == 2 else { return nil }
        let n = Int(i.u32(8 + 255 * 4))
        guard i.count >= 8 + 1024 + n * 28 + 40, p.count >= 32,
              p.u32(0) == 0x5041_434b, Int(p.u32(8)) == n else { return nil }
        idx = i
        pack = p
        count = n
    }

    private var oidsAt: Int { 8 + 1024 }
    private var crcsAt: Int { oidsAt + count * 20 }
    private var offsetsAt: Int { crcsAt + count * 4 }

    /// The idx position of an object id, by the fan-out table and binary search.
    func find(_ oid: [UInt8]) -> Int? {
        let first = Int(oid[0])
        var lo = first == 0 ? 0 : Int(idx.u32(8 + (first - 1) * 4))
        var hi = Int(idx.u32(8 + first * 4))
        guard lo <= hi, hi <= count else { return nil }
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = oid.withUnsafeBytes { memcmp(idx.base + oidsAt + mid * 20, $0.baseAddress!, 20) }
            if c == 0 { return mid }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    func oid(at position: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: idx.base + oidsAt + position * 20, count: 20))
    }

    func offset(at position: Int) -> UInt64? {
        let v = idx.u32(offsetsAt + position * 4)
        if v & 0x8000_0000 == 0 { return UInt64(v) }
        let at = offsetsAt + count * 4 + Int(v & 0x7fff_ffff) * 8
        guard at + 8 <= idx.count - 40 else { return nil }
        return idx.u64(at)
    }

    private func sortedOffsets() -> [(offset: UInt64, position: Int)] {
        if byOffset.isEmpty && count > 0 {
            var all: [(offset: UInt64, position: Int)] = []
            all.reserveCapacity(count)
            for i in 0..<count {
                guard let o = offset(at: i) else { return [] }
                all.append((o, i))
            }
            all.sort { $0.offset < $1.offset }
            byOffset = all
        }
        return byOffset
    }

    /// The raw entry of the object at idx `position`, when its bytes check against the
    /// idx's CRC32; nil sends the caller to the ordinary (inflating) read.
    func entry(at position: Int) -> RawPackEntry? {
        let sorted = sortedOffsets()
        guard let start = offset(at: position), !sorted.isEmpty else { return nil }
        // The entry ends where the next one starts (or at the pack's trailing checksum).
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid].offset <= start { lo = mid + 1 } else { hi = mid }
        }
        let end = lo < sorted.count ? Int(sorted[lo].offset) : pack.count - 20
        var at = Int(start)
        guard at >= 12, at < end, end <= pack.count - 20 else { return nil }
        guard let (type, size) = packEntryHeader({ pack[$0] }, &at, end: end, maxShift: 64) else { return nil }
        var base: [UInt8]?
        switch type {
        case 1...4: break
        case 6:
            guard at < end else { return nil }
            var c = pack[at]
            at += 1
            var back = UInt64(c & 0x7f)
            while c & 0x80 != 0 {
                guard at < end, back < 1 << 56 else { return nil }
                c = pack[at]
                at += 1
                back = (back + 1) << 7 | UInt64(c & 0x7f)
            }
            guard back <= start else { return nil }
            let target = start - back
            var l = 0, h = sorted.count
            while l < h {
                let mid = (l + h) / 2
                if sorted[mid].offset < target { l = mid + 1 } else { h = mid }
            }
            guard l < sorted.count, sorted[l].offset == target else { return nil }
            base = oid(at: sorted[l].position)
        case 7:
            guard at + 20 <= end else { return nil }
            base = Array(UnsafeRawBufferPointer(start: pack.base + at, count: 20))
            at += 20
        default: return nil
        }
        let whole = UnsafeRawBufferPointer(start: pack.base + Int(start), count: end - Int(start))
        guard crc32Of(whole) == idx.u32(crcsAt + position * 4) else { return nil }
        return RawPackEntry(type: base == nil ? type : 7, size: size, base: base,
                            data: UnsafeRawBufferPointer(start: pack.base + at, count: end - at))
    }
}

/// Every version-2 pack of a repository's own object directory, in name order.
public final class SourcePacks {
    private let packs: [SourcePack]

    public init(objectsDirectory: [UInt8]) {
        let dir = objectsDirectory + Array("/pack".utf8)
        // libgit2 names its packs `pack-<hex>.idx` (ASCII): any other name is no pack of the repository's.
        let names = (directoryEntries(dir) ?? []).compactMap { String(validating: $0, as: UTF8.self) }
            .filter { $0.hasPrefix("pack-") && $0.hasSuffix(".idx") }.sorted()
        packs = names.compactMap { n in
            SourcePack(idxPath: PathBytes.join(dir, Array(n.utf8)),
                       packPath: PathBytes.join(dir, Array((n.dropLast(4) + ".pack").utf8)))
        }
    }

    /// The first pack holding `oid`, and its position there.
    func locate(_ oid: [UInt8]) -> (pack: SourcePack, position: Int)? {
        for p in packs {
            if let i = p.find(oid) { return (p, i) }
        }
        return nil
    }
}

/// zlib's CRC-32 of a buffer (what a v2 pack index records per entry).
func crc32Of(_ b: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
    guard let p = b.baseAddress, b.count > 0 else { return seed }
    var crc = UInt(seed)
    var left = b.count
    var at = p
    while left > 0 {
        let n = min(left, 1 << 30)
        crc = crc32(crc, at.assumingMemoryBound(to: UInt8.self), UInt32(n))
        at += n
        left -= n
    }
    return UInt32(truncatingIfNeeded: crc)
}

/// An object id held in three words (no heap, cheap to hash); orders like its bytes.
public struct ObjectKey: Hashable, Comparable {
    var a: UInt64, b: UInt64, c: UInt32

    public init(_ raw: [UInt8]) {
        var w: [UInt64] = [0, 0, 0]
        for (i, x) in raw.prefix(20).enumerated() { w[i / 8] |= UInt64(x) << (56 - 8 * UInt64(i % 8)) }
        (a, b, c) = (w[0], w[1], UInt32(truncatingIfNeeded: w[2] >> 32))
    }

    public init(_ id: ObjectID) { self.init(id.raw) }

    public static func < (x: ObjectKey, y: ObjectKey) -> Bool { (x.a, x.b, x.c) < (y.a, y.b, y.c) }
}

/// A pack entry's header at `at` (`at < end`): its type (3 bits) and inflated size (a
/// little-endian base-128 varint), `at` moved past it; nil when it runs past `end` or its
/// size needs more than `maxShift` bits.
func packEntryHeader(_ byte: (Int) -> UInt8, _ at: inout Int, end: Int, maxShift: UInt64) -> (Int, UInt64)? {
    var c = byte(at)
    at += 1
    let type = Int(c >> 4) & 7
    var size = UInt64(c & 0x0f)
    var shift: UInt64 = 4
    while c & 0x80 != 0 {
        guard at < end, shift < maxShift else { return nil }
        c = byte(at)
        at += 1
        size |= UInt64(c & 0x7f) << shift
        shift += 7
    }
    return (type, size)
}
