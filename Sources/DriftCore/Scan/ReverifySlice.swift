import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
/// The slice of files a scan re-hashes even when the stat cache vouches for them, so a
/// forged cache record hides a change for at most `every` scans (docs/state.md).
///
/// A path belongs to slice `hash(path) mod every`; scan number `scan` takes slice
/// `scan mod every`. Counted in scans, never by the clock, so a box that scans rarely
/// still re-verifies everything within `every` scans, and a slice is about 1/`every` of the files.
///
/// A bound in scans alone is a bound in nothing a person can plan with (a day under 5-minute
/// cron, 12 days hourly), so a slice also covers the arc of the ring the clock moved over
/// since the last scan's slice: a path's place on the ring is its slot as a fraction, the
/// ring turns once every `period` (6 hours). A forged record of any cache (`statcache`,
/// `pipcache`, `pyccache`) is therefore re-checked within `period` of wall-clock time after
/// the first scan that follows the forgery, whatever the scan cadence (5-minute cron:
/// ~1.4% of the files a scan; `drift watch` alone, a full scan an hour: 1/6 an hour); a
/// gap of a whole `period` re-checks everything.
public struct ReverifySlice: Sendable, Equatable {
    /// Scans per full rotation (policy `reverify_every`, default 288: a day of 5-minute crons).
    public var every: Int
    /// This scan's number (state.json `scans`).
    public var scan: Int
    /// The part of the ring `[arcFrom, arcTo)` (fractions, wrapping) this scan re-checks
    /// because the clock moved over it; empty when equal.
    var arcFrom = 0.0
    var arcTo = 0.0
    /// The whole ring (a gap of at least `period` since the last slice).
    var all = false
    /// False when this scan's slot share (`scan mod every`) was re-hashed ahead of it by
    /// `drift watch` in its idle time (`AheadVerification`): only the arc and `also` remain.
    var bucket = true
    /// Paths re-hashed whatever their slot (what the watcher could not verify ahead).
    var also: Set<[UInt8]> = []

    /// One turn of the ring: the time bound on a forged cache record.
    static let period: Double = 6 * 3600

    /// Also re-checks what the clock moved over from `last` (the previous slice's time,
    /// state.json `reverified_at`) to `now`.
    public init(every: Int, scan: Int, last: Date?, now: Date) {
        self.init(every: every, scan: scan)
        guard let last else { return }
        let gap = now.timeIntervalSince(last)
        if gap >= Self.period {
            all = true
        } else if gap > 0 {
            arcFrom = Self.position(last)
            arcTo = Self.position(now)
        }
    }

    /// Where the ring stands at `t`, as a fraction of a turn.
    static func position(_ t: Date) -> Double {
        let turns = t.timeIntervalSince1970 / period
        return turns - turns.rounded(.down)
    }

    static let defaultEvery = 288
    /// Smallest allowed rotation: a slice is then at most 5% of a full hash.
    static let minimumEvery = 25

    public init(every: Int, scan: Int) {
        self.every = max(1, every)
        self.scan = scan
    }

    /// Whether `path` is re-hashed by this scan.
    func contains(_ path: [UInt8]) -> Bool {
        // Asked for every cache hit: no hashing of the path into an empty set.
        (!also.isEmpty && also.contains(path)) || contains(slot: Self.slot(path))
    }

    /// Whether a path with this `slot(_:)` is re-hashed by this scan.
    func contains(slot: UInt64) -> Bool {
        if all || bucket && Int(slot % UInt64(every)) == ((scan % every) + every) % every { return true }
        if arcFrom == arcTo { return false }
        let f = Double(slot >> 11) / Double(UInt64(1) << 53)
        return arcFrom < arcTo ? (f >= arcFrom && f < arcTo) : (f >= arcFrom || f < arcTo)
    }

    /// FNV-1a of the path bytes: stable across runs and machines.
    static func slot<P: Sequence<UInt8>>(_ path: P) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in path {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        // splitmix64's finaliser: FNV's low bits alone spread similar names unevenly.
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }
}
