import DriftSystem
import Synchronization

extension StatCache {
    /// The cached records in two flat buffers: every path's bytes in one array and a fixed
    /// slot per record (its path's span and its `Entry`). A record costs 80 bytes plus its
    /// path, with no heap object per path; lookups compare paths in place.
    public struct Records: RandomAccessCollection, Equatable, Sendable {
        struct Slot: Sendable, Equatable {
            /// Offset into `paths` in the high 40 bits, length in the low 24.
            var span: UInt64
            var entry: Entry
        }

        private(set) var paths: [UInt8] = []
        private(set) var slots: [Slot] = []
        /// Which buffer of path bytes this is: new for every `Records` made, kept by its copies
        /// and edits (path bytes are only ever appended), so a span read from records of the
        /// same layout, with no fewer path bytes, names the same path still (`SliceIndex`).
        private(set) var layout = Records.newLayout()

        private static let layouts = Atomic<UInt64>(0)

        private static func newLayout() -> UInt64 {
            layouts.add(1, ordering: .relaxed).newValue
        }

        public init() {}

        /// Records already sorted by path bytes.
        public init(_ records: [Record]) {
            reserve(records.count, pathBytes: records.reduce(0) { $0 + $1.path.count })
            for r in records { append(r) }
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { slots.count }

        /// The record at `i` (allocates its path; hot loops use `comparePath` and `entry`).
        public subscript(i: Int) -> Record {
            get { Record(path: path(i), entry: slots[i].entry) }
            set {
                if comparePath(i, newValue.path) != 0 { slots[i].span = store(newValue.path) }
                slots[i].entry = newValue.entry
            }
        }

        @inline(__always)
        private func span(_ i: Int) -> (Int, Int) {
            let s = slots[i].span
            return (Int(s >> 24), Int(s & 0xFF_FFFF))
        }

        public func path(_ i: Int) -> [UInt8] {
            let (o, l) = span(i)
            return Array(paths[o..<(o + l)])
        }

        public func entry(_ i: Int) -> Entry { slots[i].entry }

        /// Record `i`'s path as a span of `paths`: offset in the high 40 bits, length in the low 24.
        func span(of i: Int) -> UInt64 { slots[i].span }

        /// Calls `body` with record `i`'s path bytes in place.
        func withPath<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
            let (o, l) = span(i)
            return try paths.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[o..<(o + l)])) }
        }

        /// memcmp order of record `i`'s path against `key` (negative: the record sorts first).
        func comparePath(_ i: Int, _ key: [UInt8]) -> Int {
            key.withUnsafeBufferPointer { comparePath(i, $0) }
        }

        func comparePath(_ i: Int, _ key: UnsafeBufferPointer<UInt8>) -> Int {
            withPath(i) { p in
                let n = Swift.min(p.count, key.count)
                let c = n == 0 ? 0 : compareMemory(p.baseAddress!, key.baseAddress!, n)
                return c != 0 ? c : p.count - key.count
            }
        }

        /// The first index whose path does not sort before `key`.
        func lowerBound(_ key: [UInt8]) -> Int {
            var lo = 0, hi = count
            while lo < hi {
                let mid = (lo + hi) / 2
                if comparePath(mid, key) < 0 { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }

        /// The first index at or after `from` whose path does not sort before `key`: galloping
        /// from `from`, so a walk in path order over a few of many records costs O(k log(n/k)).
        func lowerBound(_ key: [UInt8], from: Int) -> Int {
            key.withUnsafeBufferPointer { k in
                var lo = from, step = 1, hi = from
                while hi < count && comparePath(hi, k) < 0 {
                    lo = hi + 1
                    hi = Swift.min(count, hi + step)
                    step *= 2
                }
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if comparePath(mid, k) < 0 { lo = mid + 1 } else { hi = mid }
                }
                return lo
            }
        }

        /// Replaces the records of `scope` with `part` in place when the scope is exact paths
        /// (no tree, no record below any of them) and `part` holds exactly the scope's paths
        /// that are already here (no record added or removed); false, and nothing changed,
        /// otherwise (the caller merges, which also drops what lies below a scope path).
        mutating func replaceInPlace(_ part: Records, _ scope: ScanScope) -> Bool {
            guard scope.trees.isEmpty, part.count <= scope.paths.count else { return false }
            // Both in byte order, each found galloping on from the last (out of order: not
            // found, so refused, never wrong).
            var present = 0, i = 0
            for p in scope.paths.sorted(by: bytesLess) {
                i = lowerBound(p, from: i)
                if i < count && comparePath(i, p) == 0 { present += 1 }
                let below = lowerBound(p + [UInt8(ascii: "/")], from: i)
                if below < lowerBound(p + [UInt8(ascii: "0")], from: below) { return false }
            }
            guard present == part.count else { return false }
            var replace: [(Int, Entry?)] = []
            replace.reserveCapacity(part.count)
            i = 0
            for j in 0..<part.count {
                let p = part.path(j)
                i = lowerBound(p, from: i)
                guard scope.paths.contains(p), i < count, comparePath(i, p) == 0 else { return false }
                replace.append((i, part.slots[j].entry))
            }
            patch(replace: replace, insert: [])
            return true
        }

        public mutating func reserveCapacity(_ n: Int) {
            slots.reserveCapacity(n)
        }

        mutating func reserve(_ n: Int, pathBytes: Int) {
            slots.reserveCapacity(n)
            paths.reserveCapacity(pathBytes)
        }

        private mutating func store(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
            // Paths are bounded far below 16 MiB (WalkLimit, the parser's 1 MiB).
            precondition(p.count <= 0xFF_FFFF)
            let o = paths.count
            paths.append(contentsOf: p)
            return UInt64(o) << 24 | UInt64(p.count)
        }

        private mutating func store(_ p: [UInt8]) -> UInt64 {
            p.withUnsafeBufferPointer { store($0) }
        }

        /// Appends a record; paths must come in increasing byte order.
        public mutating func append(_ r: Record) {
            append(r.path, r.entry)
        }

        public mutating func append(_ path: [UInt8], _ e: Entry) {
            slots.append(Slot(span: store(path), entry: e))
        }

        /// Inserts a record at `i` (its path stored at the end of the buffer; order is the caller's).
        public mutating func insert(_ r: Record, at i: Int) {
            slots.insert(Slot(span: store(r.path), entry: r.entry), at: i)
        }

        /// Appends unless `path` does not sort after the last record's; false then.
        mutating func appendIfAfterLast(_ path: UnsafeBufferPointer<UInt8>, _ e: Entry) -> Bool {
            if !slots.isEmpty && comparePath(slots.count - 1, path) >= 0 { return false }
            slots.append(Slot(span: store(path), entry: e))
            return true
        }

        /// Appends record `i` of `other` (its path copied in place, not allocated).
        mutating func append(from other: Records, _ i: Int) {
            let s = other.withPath(i) { store($0) }
            slots.append(Slot(span: s, entry: other.slots[i].entry))
        }

        /// Edits the records in place, in one pass over the slots at most (none for replacements
        /// only), the path bytes kept (shared with any copy this came from): `replace` are
        /// (index, new entry or nil to remove) of present records, indices increasing;
        /// `insert` are new records in increasing path order, each at its `lowerBound` index
        /// in the records before this edit (indices non-decreasing, none a present path).
        mutating func patch(replace: [(Int, Entry?)], insert: [(at: Int, path: [UInt8], entry: Entry)]) {
            var removed: [Int] = []
            for (i, e) in replace {
                if let e { slots[i].entry = e } else { removed.append(i) }
            }
            var at = insert.map(\.at)
            if !removed.isEmpty {
                // Compact forward; an insertion index moves back by the removals before it.
                var w = removed[0], k = 0, j = 0
                for r in removed[0]..<slots.count {
                    if k < removed.count && removed[k] == r {
                        k += 1
                        continue
                    }
                    slots[w] = slots[r]
                    w += 1
                }
                slots.removeLast(slots.count - w)
                for n in at.indices {
                    while j < removed.count && removed[j] < at[n] { j += 1 }
                    at[n] -= j
                }
            }
            if at.isEmpty { return }
            let added = insert.map { Slot(span: store($0.path), entry: $0.entry) }
            var r = slots.count - 1
            slots.append(contentsOf: added)
            // Merge from the back: every slot from the first insertion point moves once.
            var w = slots.count - 1
            for n in added.indices.reversed() {
                while r >= at[n] {
                    slots[w] = slots[r]
                    w -= 1
                    r -= 1
                }
                slots[w] = added[n]
                w -= 1
            }
        }

        /// Whether both hold the very same path bytes (a copy not yet written to): then equal
        /// spans mean equal paths, without comparing them.
        func sharesPaths(with other: Records) -> Bool {
            let p = paths.withUnsafeBufferPointer { $0.baseAddress }
            let q = other.paths.withUnsafeBufferPointer { $0.baseAddress }
            return p == q && paths.count == other.paths.count
        }

        /// Whether record `i` and record `j` of `other` have the same span (the same path when
        /// `sharesPaths(with: other)`).
        func sameSpan(_ i: Int, _ other: Records, _ j: Int) -> Bool {
            slots[i].span == other.slots[j].span
        }

        /// The very same buffers (a cache handed on unchanged): equal without a look at them.
        func sharesStorage(with other: Records) -> Bool {
            let s = slots.withUnsafeBufferPointer { $0.baseAddress }
            let t = other.slots.withUnsafeBufferPointer { $0.baseAddress }
            return sharesPaths(with: other) && s == t
        }

        public static func += (lhs: inout Records, rhs: [Record]) {
            for r in rhs { lhs.append(r) }
        }

        /// Sorts by `less` (small caches only: every path is materialised).
        public mutating func sort(by less: (Record, Record) -> Bool) {
            self = Records(Array(self).sorted(by: less))
        }

        public static func == (a: Records, b: Records) -> Bool {
            guard a.count == b.count else { return false }
            if a.sharesStorage(with: b) { return true }
            let shared = a.sharesPaths(with: b)
            for i in 0..<a.count {
                guard a.slots[i].entry == b.slots[i].entry else { return false }
                if shared && a.slots[i].span == b.slots[i].span { continue }
                let same = b.withPath(i) { a.comparePath(i, $0) == 0 }
                if !same { return false }
            }
            return true
        }
    }
}
