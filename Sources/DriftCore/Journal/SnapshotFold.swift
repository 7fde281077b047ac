import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A snapshot's withheld changes with big directories folded (`SnapshotSummary`).
struct SnapshotFold {
    /// The withheld changes that stay entries of their own.
    var kept: [(FileChange, WithholdReason)] = []
    /// One entry a summarised directory (path ending in `/`, `""` for the root), sorted by
    /// path, then change, then class.
    var summaries: [SnapshotEntry] = []

    /// `init(_:others:memo:)` of a list of withheld changes, each with its reason.
    init(_ withheld: [(FileChange, WithholdReason)], others: Int = 0, memo: JournalMemo? = nil) throws {
        var list = WithheldChanges(withheld.map(\.0))
        for k in withheld.indices { list.append(k, withheld[k].1) }
        try self.init(list, others: others, memo: memo)
    }

    /// Folds each (directory, change, class) group of more than `SnapshotSummary.threshold`
    /// foldable changes directly in one directory into one summary entry, first seen at its
    /// earliest file's time. When the snapshot would still have more than
    /// `SnapshotSummary.maxEntries` entries (`others`: the entries besides these, e.g. the
    /// code in the tree), foldable changes are folded by directory, deepest level first, as
    /// `state.json` is (`StateSummary`): a summary then covers its files *below* the directory.
    ///
    /// Files directly in the root stay their own (a summary names a directory). The work is
    /// one pass over the withheld changes (`FoldRuns`), then per run and per group: a group
    /// whose members `memo` holds from the last record is not hashed again (issue 28).
    ///
    /// `foldable`: the check of every change of the list that `FoldRuns.mayFold`, with all the
    /// fold reads (`Journal.fingerprintAndFold`): when `memo` holds a whole fold of the same
    /// members and counts, its summaries are this fold's, and the kept changes are found from
    /// the changes' fields and the places it did not fold (no path is read).
    init(_ withheld: WithheldChanges, others: Int = 0, memo: JournalMemo? = nil,
         foldable: MemberCheck? = nil) throws {
        // What the depth fold compares with the cap, besides what the fold itself makes.
        let besides = others + withheld.count
        if let memo, let foldable, let whole = memo.whole, whole.holds(foldable, entries: besides) {
            summaries = whole.summaries
            kept = Self.kept(withheld, unfolded: whole.unfolded)
            return
        }
        let runs = FoldRuns(withheld, checked: memo != nil)
        // Per run: the length of the directory its members fold into (nil: not folded).
        var into = [Int?](repeating: nil, count: runs.runs.count)
        var groups: [(FoldRuns.Key, [Int])] = []
        var folded = 0
        for (key, members) in runs.group(runs.runs.indices.lazy.map { ($0, runs.runs[$0].parent) }) {
            let n = runs.count(members)
            guard n > SnapshotSummary.threshold else { continue }
            for r in members { into[r] = key.dir.count }
            folded += n
            groups.append((key, members))
        }
        // Entries: the others, the changes not folded, and one a (directory, change, class) folded.
        var entries = besides - folded + groups.count
        var depth = runs.runs.lazy.map(\.depth).max() ?? 0
        // The counts `besides` this fold is made for: above every bound a fold before it stopped
        // at, and at most its own (any count when it is the last, deepest fold).
        var lowest = Int.min
        while depth >= 1 && entries > SnapshotSummary.maxEntries {
            lowest = max(lowest, SnapshotSummary.maxEntries + folded - groups.count + 1)
            for r in runs.runs.indices where runs.runs[r].depth >= depth {
                let n = runs.ancestorLength(r, depth)
                if (into[r] ?? Int.max) > n { into[r] = n }
            }
            depth -= 1
            groups = runs.group(runs.runs.indices.lazy.compactMap { r in into[r].map { (r, $0) } }).map { ($0, $1) }
            folded = groups.reduce(0) { $0 + runs.count($1.1) }
            entries = besides - folded + groups.count
        }
        let highest = depth >= 1 ? SnapshotSummary.maxEntries + folded - groups.count : Int.max
        summaries = try Self.summaries(groups, runs, memo)
        // The changes it may fold and did not, by their order among those it may fold.
        var unfolded: [Int] = []
        var j = 0
        let special = withheld.specialOrders
        var s = 0
        kept.reserveCapacity(withheld.count - folded)
        for k in 0..<withheld.count {
            if s < special.count && special[s] == k {
                s += 1
            } else if FoldRuns.mayFold(withheld.changes[Int(withheld.places[k])].fileClass,
                                       withheld.changes[Int(withheld.places[k])].secrecy,
                                       withheld.changes[Int(withheld.places[k])].change) {
                j += 1
                let r = Int(runs.runOf[k])
                if r >= 0 && into[r] != nil { continue }
                unfolded.append(j - 1)
            }
            kept.append((withheld.change(k), withheld.reason(k)))
        }
        if let memo {
            memo.whole = foldable.map {
                JournalMemo.Whole(foldable: $0, entries: lowest...highest, summaries: summaries, unfolded: unfolded)
            }
        }
    }

    /// The withheld changes a fold that left `unfolded` (orders among the changes it may
    /// fold, ascending) did not fold, each with its reason: found from the changes' fields.
    private static func kept(_ withheld: WithheldChanges, unfolded: [Int]) -> [(FileChange, WithholdReason)] {
        var out: [(FileChange, WithholdReason)] = []
        var j = 0
        var u = 0
        withheld.forEachOrder { k, foldable, _ in
            if foldable != nil {
                j += 1
                guard u < unfolded.count && unfolded[u] == j - 1 else { return }
                u += 1
            }
            out.append((withheld.change(k), withheld.reason(k)))
        }
        return out
    }

    /// One summary entry a group, sorted by (directory, change, class): from `memo` when it
    /// holds the group's members, else hashed (and kept in `memo` for the next record).
    private static func summaries(_ groups: [(FoldRuns.Key, [Int])], _ runs: FoldRuns,
                                  _ memo: JournalMemo?) throws -> [SnapshotEntry] {
        var old = memo?.takeFolds() ?? [:]
        var now: [JournalMemo.FoldKey: JournalMemo.FoldValue] = [:]
        var made: [(FoldRuns.Key, SnapshotEntry)] = []
        let hasher = try SHA256Hasher()
        for (key, members) in groups {
            let memoKey = memo.map { _ in
                JournalMemo.FoldKey(dir: key.dir, change: key.change, fileClass: key.fileClass,
                                    members: runs.check(members))
            }
            let value: JournalMemo.FoldValue
            if let k = memoKey, let v = old.removeValue(forKey: k) ?? now[k] {
                value = v
            } else {
                let files = runs.sortedMembers(members)
                let changes = runs.withheld.changes
                let (summary, earliest) = try Self.summary(files.lazy.map { changes[$0] }, dir: key.dir, hasher)
                value = JournalMemo.FoldValue(summary: summary, earliest: earliest)
            }
            if let k = memoKey { now[k] = value }
            made.append((key, SnapshotEntry(change: key.change, fileClass: key.fileClass,
                                            firstSeen: value.earliest?.wholeSeconds ?? Date(), path: key.dir,
                                            recorded: .summary(value.summary))))
        }
        memo?.putFolds(now)
        made.sort { a, b in
            if a.0.dir != b.0.dir { return PathBytes.less(a.0.dir, b.0.dir) }
            if a.0.change != b.0.change { return a.0.change.rawValue < b.0.change.rawValue }
            return a.0.fileClass.rawValue < b.0.fileClass.rawValue
        }
        return made.map(\.1)
    }

    /// Count, bytes and digest of `files` (sorted by path), all below `dir`: SHA-256 of the
    /// lines `<escaped path below dir> <git mode or -> <sha256 or ->\n`; and their earliest
    /// first sighting.
    private static func summary(_ files: some Sequence<FileChange>, dir: [UInt8],
                                _ hasher: SHA256Hasher) throws -> (SnapshotSummary, earliest: Date?) {
        var lines = HashedLines(hasher)
        var bytes: Int64 = 0
        var count = 0
        var earliest: Date?
        for c in files {
            count += 1
            bytes += c.new?.size ?? 0
            if earliest.map({ c.firstSeen < $0 }) ?? true { earliest = c.firstSeen }
            lines.append(escaped: c.path[dir.count...])
            lines.append(byte: 0x20)
            lines.append(mode: c.new?.gitMode)
            lines.append(byte: 0x20)
            lines.append(digest: c.new?.digest)
            try lines.endLine()
        }
        return (SnapshotSummary(count: count, bytes: bytes, digest: try lines.finish()), earliest)
    }

    /// The Drift-Id input line of a summary entry: `summary <change> <escaped dir/> <class>
    /// <count> <sha256>` (never ending in `code`: `DriftID.withheldCode` reads no summary).
    static func inputLine(_ e: SnapshotEntry) -> String? {
        guard case .summary(let s) = e.recorded else { return nil }
        return "summary \(e.change.rawValue) \(PathBytes.escape(e.path)) \(e.fileClass.rawValue) "
            + "\(s.count) \(s.digest.hex)"
    }
}
