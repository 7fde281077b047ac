import DriftGit
import DriftSystem
/// The slice of files a scan re-hashes even when the stat cache vouches for them, so a
/// forged cache record hides a change for at most `every` scans (docs/state.md).
///
/// A path belongs to slice `hash(path) mod every`; scan number `scan` takes slice
/// `scan mod every`. Counted in scans, never by the clock, so a box that scans rarely
/// still re-verifies everything within `every` scans, and a slice is about 1/`every` of the files.
public struct ReverifySlice: Sendable, Equatable {
    /// Scans per full rotation (policy `reverify_every`, default 288: a day of 5-minute crons).
    public var every: Int
    /// This scan's number (state.json `scans`).
    public var scan: Int

    static let defaultEvery = 288
    /// Smallest allowed rotation: a slice is then at most 5% of a full hash.
    static let minimumEvery = 25

    public init(every: Int, scan: Int) {
        self.every = max(1, every)
        self.scan = scan
    }

    /// Whether `path` is re-hashed by this scan.
    func contains(_ path: [UInt8]) -> Bool { contains(slot: Self.slot(path)) }

    /// Whether a path with this `slot(_:)` is re-hashed by this scan.
    func contains(slot: UInt64) -> Bool {
        Int(slot % UInt64(every)) == ((scan % every) + every) % every
    }

    /// FNV-1a of the path bytes: stable across runs and machines.
    static func slot(_ path: [UInt8]) -> UInt64 {
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
