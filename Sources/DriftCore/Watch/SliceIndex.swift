import DriftGit
import DriftSystem

/// The stat-cached paths of the watcher's last full scan, grouped the way `ReverifySlice`
/// picks them, so a cron scan's query finds its slice without hashing every path name
/// (about 0.1 s for 200,000 names on a loaded machine). Paths first cached by a batch since
/// are not in it: they were just read, and the next full scan (`--rescan-every`) adds them.
struct SliceIndex {
    private var every = 1
    /// Paths by `slot % every`.
    private var buckets: [[[UInt8]]] = []
    /// Every path with its slot, sorted by slot (the ring's order).
    private var ring: [(slot: UInt64, path: [UInt8])] = []

    init() {}

    init(_ paths: [[UInt8]], every: Int) {
        self.every = max(1, every)
        buckets = Array(repeating: [], count: self.every)
        ring.reserveCapacity(paths.count)
        for p in paths {
            let s = ReverifySlice.slot(p)
            buckets[Int(s % UInt64(self.every))].append(p)
            ring.append((s, p))
        }
        ring.sort { $0.slot < $1.slot }
    }

    /// The paths `slice` re-hashes by slot (each once; not its `also`), or nil when the slice
    /// was cut with another rotation than this index (the caller then tests every path).
    func paths(in slice: ReverifySlice) -> [[UInt8]]? {
        guard slice.every == every, !buckets.isEmpty else { return nil }
        if slice.all { return ring.map(\.path) }
        // Without its slot share (verified ahead), no bucket is excluded from the arc below.
        let bucket = slice.bucket ? ((slice.scan % every) + every) % every : -1
        var out = bucket >= 0 ? buckets[bucket] : []
        if slice.arcFrom == slice.arcTo { return out }
        // A fraction of the ring is `slot >> 11` over 2^53: monotonic in the slot.
        func first(atLeast f: Double) -> Int {
            lowerBound(ring.count) { Double(ring[$0].slot >> 11) / Double(UInt64(1) << 53) < f }
        }
        let ranges = slice.arcFrom < slice.arcTo
            ? [first(atLeast: slice.arcFrom)..<first(atLeast: slice.arcTo)]
            : [first(atLeast: slice.arcFrom)..<ring.count, 0..<first(atLeast: slice.arcTo)]
        for r in ranges {
            for k in r where Int(ring[k].slot % UInt64(every)) != bucket { out.append(ring[k].path) }
        }
        return out
    }
}
