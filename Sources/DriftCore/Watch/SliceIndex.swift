import DriftGit
import DriftSystem

/// The stat-cached paths of the watcher's last full scan, by re-verification slot, so a cron
/// scan's query finds its slice without hashing every path name (about 0.1 s for 200,000
/// names on a loaded machine). Paths first cached by a batch since are not in it: they were
/// just read, and the next full scan (`--rescan-every`) adds them.
///
/// It holds no path: each is a span of the model's stat cache's path bytes, which the
/// watcher's batches only append to (`StatCache.Records.layout`), read when a query asks.
/// Issue 28: an array a path cost ~100 bytes a file, a copy of the cache's bytes 64; a span 16.
struct SliceIndex {
    private var every = 1
    /// The layout of the records the spans point into (0: no index).
    private var layout: UInt64 = 0
    /// How many path bytes those records held.
    private var pathBytes = 0
    /// Every path's slot and span (offset << 24 | length), sorted by slot (the ring's order).
    private var ring: [(slot: UInt64, span: UInt64)] = []

    init() {}

    /// The paths of `records` (the model's stat cache).
    init(_ records: StatCache.Records, every: Int) {
        self.every = max(1, every)
        layout = records.layout
        pathBytes = records.paths.count
        ring.reserveCapacity(records.count)
        for i in records.indices {
            ring.append((records.withPath(i) { ReverifySlice.slot($0) }, records.span(of: i)))
        }
        ring.sort { $0.slot < $1.slot }
    }

    /// The paths `slice` re-hashes by slot (each once; not its `also`), read from `records`;
    /// nil when the slice was cut with another rotation than this index, or `records` are
    /// not (a later edit of) the ones it was built from (the caller then tests every path).
    func paths(in slice: ReverifySlice, of records: StatCache.Records) -> [[UInt8]]? {
        guard slice.every == every, layout != 0, records.layout == layout,
              records.paths.count >= pathBytes else { return nil }
        func path(_ span: UInt64) -> [UInt8] {
            let o = Int(span >> 24)
            return Array(records.paths[o..<(o + Int(span & 0xFF_FFFF))])
        }
        if slice.all { return ring.map { path($0.span) } }
        // Without its slot share (verified ahead), no bucket is excluded from the arc below.
        let bucket = slice.bucket ? ((slice.scan % every) + every) % every : -1
        var out: [[UInt8]] = []
        if bucket >= 0 {
            for r in ring where Int(r.slot % UInt64(every)) == bucket { out.append(path(r.span)) }
        }
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
