import DriftGit
import DriftSystem

/// The stat-cached paths of the watcher's last full scan, grouped the way `ReverifySlice`
/// picks them, so a cron scan's query finds its slice without hashing every path name
/// (about 0.1 s for 200,000 names on a loaded machine). Paths first cached by a batch since
/// are not in it: they were just read, and the next full scan (`--rescan-every`) adds them.
struct SliceIndex {
    private var every = 1
    /// The path bytes the spans point into: the stat cache's own buffer, shared (never copied)
    /// until the cache next stores a path (issue 28: an array a path cost ~100 bytes a file).
    private var bytes: [UInt8] = []
    /// Path spans (offset << 24 | length) by `slot % every`, each bucket in the given order.
    private var buckets: [[UInt64]] = []
    /// Every path's slot and span, sorted by slot (the ring's order).
    private var ring: [(slot: UInt64, span: UInt64)] = []

    init() {}

    /// The paths of `records` (the model's stat cache), in its order.
    init(_ records: StatCache.Records, every: Int) {
        var ring: [(slot: UInt64, span: UInt64)] = []
        ring.reserveCapacity(records.count)
        for i in records.indices {
            ring.append((records.withPath(i) { ReverifySlice.slot($0) }, records.span(of: i)))
        }
        self.init(every: every, bytes: records.paths, ring: ring)
    }

    /// The given paths, in their order (stored in one buffer).
    init(_ paths: [[UInt8]], every: Int) {
        var bytes: [UInt8] = []
        var ring: [(slot: UInt64, span: UInt64)] = []
        ring.reserveCapacity(paths.count)
        for p in paths {
            ring.append((ReverifySlice.slot(p), UInt64(bytes.count) << 24 | UInt64(p.count)))
            bytes += p
        }
        self.init(every: every, bytes: bytes, ring: ring)
    }

    /// Buckets from `ring` in its given order, then the ring sorted by slot.
    private init(every: Int, bytes: [UInt8], ring: [(slot: UInt64, span: UInt64)]) {
        self.every = max(1, every)
        self.bytes = bytes
        buckets = Array(repeating: [], count: self.every)
        for (s, span) in ring { buckets[Int(s % UInt64(self.every))].append(span) }
        self.ring = ring
        self.ring.sort { $0.slot < $1.slot }
    }

    private func path(_ span: UInt64) -> [UInt8] {
        let o = Int(span >> 24)
        return Array(bytes[o..<(o + Int(span & 0xFF_FFFF))])
    }

    /// The paths `slice` re-hashes by slot (each once; not its `also`), or nil when the slice
    /// was cut with another rotation than this index (the caller then tests every path).
    func paths(in slice: ReverifySlice) -> [[UInt8]]? {
        guard slice.every == every, !buckets.isEmpty else { return nil }
        if slice.all { return ring.map { path($0.span) } }
        // Without its slot share (verified ahead), no bucket is excluded from the arc below.
        let bucket = slice.bucket ? ((slice.scan % every) + every) % every : -1
        var out = bucket >= 0 ? buckets[bucket].map(path) : []
        if slice.arcFrom == slice.arcTo { return out }
        // A fraction of the ring is `slot >> 11` over 2^53: monotonic in the slot.
        func first(atLeast f: Double) -> Int {
            lowerBound(ring.count) { Double(ring[$0].slot >> 11) / Double(UInt64(1) << 53) < f }
        }
        let ranges = slice.arcFrom < slice.arcTo
            ? [first(atLeast: slice.arcFrom)..<first(atLeast: slice.arcTo)]
            : [first(atLeast: slice.arcFrom)..<ring.count, 0..<first(atLeast: slice.arcTo)]
        for r in ranges {
            for k in r where Int(ring[k].slot % UInt64(every)) != bucket { out.append(path(ring[k].span)) }
        }
        return out
    }
}
