import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The re-verification `drift watch` did ahead of the next cron scan's query, in its idle
/// time (docs/operations.md, "Cron scans with a running watcher"): that scan's slot share and
/// the arc the clock has moved over since its last slice, re-hashed and compared with the
/// model. The answer then only stats those files against the very records the hashes vouched
/// for — a write since then changes the inode's ctime, which no caller can set back, so the
/// record misses and the file is hashed again — and re-hashes what is left: the arc since
/// `through` and the paths in `unverified`.
struct AheadVerification {
    /// state.json `scans` and `reverified_at` as the next query must find them: a scan that
    /// walked meanwhile (or any other writer) moved them, and the answer re-hashes it all.
    var scan: Int
    var last: String?
    var every: Int
    /// The watcher's `epoch` then: bumped by anything that may have lost events.
    var epoch: Int
    /// The arc has been re-hashed up to this time (the ring's clock, as `ReverifySlice` reads it).
    var through: Date
    /// Cache hits re-hashed ahead for this scan (reported as the answer's `reverified`).
    var verified = 0
    /// Paths of the slice not verified ahead (their comparison did not match the model's, or
    /// could not be made): the answer re-hashes them.
    var unverified: Set<[UInt8]> = []

    /// How often an idle watcher re-hashes the arc the clock moved over (on the large tree,
    /// about 90 files); the answer re-hashes at most this much of the ring itself.
    static let refreshSeconds = 10.0

    /// Whether this verification is the one a query with this state (and rotation) asks for.
    func matches(scans: Int, reverifiedAt: String?, every: Int, epoch: Int) -> Bool {
        scan == scans && last == reverifiedAt && self.every == every && self.epoch == epoch
    }

    /// What the answer at `now` still re-hashes: the arc since `through`, and `unverified`.
    func remainder(now: Date) -> ReverifySlice {
        var s = ReverifySlice(every: every, scan: scan, last: through, now: now)
        s.bucket = false
        s.also = unverified
        return s
    }

    /// The slice paths whose ahead comparison (`part`, a `PartialScan` of `scope` with the
    /// slice) says what the model says: same change (kind and new content) or none, no read
    /// issue, hashed within the budget. The others are returned as not verified.
    static func disagreeing(_ scope: ScanScope, part: PartialScan.Outcome,
                            model: Scanner.Result) -> Set<[UInt8]> {
        if !scope.trees.isEmpty || !part.unreadable.isEmpty { return scope.paths }
        struct Verdict: Equatable {
            var change: ChangeKind
            var new: EntryState?
        }
        func verdicts(_ changes: [FileChange]) -> [[UInt8]: Verdict] {
            var out: [[UInt8]: Verdict] = [:]
            for c in changes where scope.paths.contains(c.path) { out[c.path] = Verdict(change: c.change, new: c.new) }
            return out
        }
        let now = verdicts(part.result.changes)
        // The model's list is sorted: each slice path looked up, not a million paths hashed
        // into a set test every idle pass (issue 28 round 13: a quarter of a 1M batch's CPU).
        var then: [[UInt8]: Verdict] = [:]
        let changes = model.changes
        for p in scope.paths {
            var k = lowerBound(changes.count) { bytesLess(changes[$0].path, p) }
            while k < changes.count && changes[k].path == p {
                then[p] = Verdict(change: changes[k].change, new: changes[k].new)
                k += 1
            }
        }
        var out = Set<[UInt8]>()
        for p in scope.paths where now[p] != then[p] { out.insert(p) }
        for i in part.result.issues { out.insert(i.path) }
        for d in part.result.deferred { out.insert(d.path) }
        return out
    }
}
