#if canImport(Glibc)
import Glibc
#endif

/// Where a file holds data, from `lseek(seekData)` / `lseek(seekHole)`: a sparse file of
/// any nominal size is described in a few system calls, never by reading its holes.
public enum FileExtents {
    /// Linux's values (glibc defines them only under `_GNU_SOURCE`, which Swift's Glibc
    /// module does not import).
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    /// Most extents listed; a file with more is summarised by the first ones and a mark.
    public static let maxExtents = 4_096

    /// A file's data extents, as (offset, length), in order.
    public struct Map: Sendable, Equatable {
        public var extents: [(offset: Int64, length: Int64)] = []
        /// False when the file system cannot tell holes (all data is assumed), or the list
        /// stopped at `maxExtents`.
        public var complete = true

        public static func == (a: Map, b: Map) -> Bool {
            a.complete == b.complete && a.extents.count == b.extents.count
                && zip(a.extents, b.extents).allSatisfy { $0.offset == $1.offset && $0.length == $1.length }
        }

        /// Bytes of data (not holes).
        public var dataBytes: Int64 { extents.reduce(0) { $0 + $1.length } }
    }

    /// The data extents of the open file `fd` of `size` bytes.
    public static func data(fd: Int32, size: Int64) -> Map {
        var map = Map()
        var offset: Int64 = 0
        while offset < size {
            let start = lseek(fd, off_t(offset), seekData)
            if start < 0 {
                // ENXIO: only holes from here on. Anything else: holes cannot be told.
                if errno != ENXIO { return Map(extents: [(0, size)], complete: false) }
                break
            }
            var end = lseek(fd, off_t(start), seekHole)
            if end < 0 { end = off_t(size) }
            if map.extents.count == maxExtents {
                map.complete = false
                break
            }
            map.extents.append((Int64(start), Int64(end) - Int64(start)))
            offset = Int64(end)
        }
        return map
    }

    /// SHA-256 of a file's size, mtime and extent map: what stands for its content when
    /// it is too big to read (it changes whenever size, mtime or the data layout does).
    public static func summaryDigest(_ st: FileStat, _ map: Map) throws -> Digest {
        var text = "drift-summary/1 size \(st.size) mtime \(st.mtimeNs) complete \(map.complete)\n"
        for e in map.extents { text += "\(e.offset)+\(e.length)\n" }
        return try SHA256Hasher.digest(Array(text.utf8))
    }
}
