import DriftSystem
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the last record derived per drifted path, kept by a long-running recorder (`drift
/// watch`, docs/architecture.md "Batches: derived again only where changed"): a batch that
/// changed one path of a million derives that path's state item again, not every path's.
///
/// A kept entry is reused for a change equal in every field to the change as that merge left
/// it, whose own state item and covering summaries are unchanged since (`MergeInvalidation`).
/// Deriving such a change again gives the same item: its first sighting is the one the state
/// gave it then (or its own, with none), and the one input the merge reads besides (the
/// sighting as given, where an export's clock restarts) matters only where the path's own
/// item changes. So what a batch writes is byte for byte what a from-scratch derivation of
/// the same input writes (`BatchDerivationTests`, `MergeMemoTests`).
final class DerivationMemo: Sendable {
    /// `DriftState.merge`'s share: the state it merged with and, per change (sorted by path),
    /// its path (the change's own array, shared, not copied), a keyed hash of the change as the
    /// merge left it (`inputKey`: a watcher hands the merged list back as the next batch's
    /// input, so an unchanged path comes back equal), and its `StateFold` entry before folding:
    /// a plain one (`-1`: made from the change again) or its item in `built`. About 28 bytes a
    /// drifted path, not a second change list and an item a path (issue 28).
    ///
    /// A watcher's merge (one of a `generation`) keeps no paths and keys: the next batch's splice
    /// (`ChangeSplice`) says which changes are the ones merged, and a record without one derives
    /// everything. It keeps instead the runs of its entries (`FoldRun`), so the next fold takes
    /// the untouched ones whole (issue 28 round 13).
    struct Merged: Sendable {
        var loaded: [DriftState.Item]
        var paths: [[UInt8]] = []
        var keys: [InputKey] = []
        var entries: [Int32] = []
        var built: [DriftState.Item] = []
        /// The list merged (a watcher's record); nil: a memo of paths and keys.
        var generation: UInt64?
        /// The entries' runs before folding; nil when they were too many to keep (`runLimit`).
        var runs: [FoldRun]?

        /// Runs beyond this share of the entries are not kept: a run is ~170 bytes, a path 4.
        static func runLimit(_ entries: Int) -> Int { max(256, entries / 16) }

        /// Every change's item before folding, as a merge building them all made them (tests).
        func items(_ changes: [FileChange]) throws -> [DriftState.Item] {
            var fold = StateFold()
            fold.changes = changes
            fold.entries = entries.indices.map { k in entries[k] < 0 ? k : ~Int(entries[k]) }
            for i in built { fold.add(i) }
            return try fold.items()
        }

        init(loaded: [DriftState.Item], capacity: Int, generation: UInt64? = nil) {
            self.loaded = loaded
            self.generation = generation
            if generation == nil {
                paths.reserveCapacity(capacity)
                keys.reserveCapacity(capacity)
            }
            entries.reserveCapacity(capacity)
        }

        /// Whether this memo's entries are those of `splice`'s old list.
        func describes(_ splice: ChangeSplice) -> Bool {
            generation == splice.from && entries.count == splice.oldCount
        }
    }

    private let merged = Mutex<Merged?>(nil)
    /// Test hook: state items taken from the memo instead of derived again, over all records.
    let reusedItems = Mutex(0)
    /// Test hook: merges that took their entries from a splice, and those that kept their runs.
    let splicedMerges = Mutex(0)
    let runMerges = Mutex(0)

    init() {}

    /// The last merge's derivation, no longer held here (a failed merge leaves none).
    func takeMerged() -> Merged? { merged.withLock { m in
        defer { m = nil }
        return m
    } }

    func setMerged(_ m: Merged?) { merged.withLock { $0 = m } }
}

/// 128 bits of a change's fields but its path: two `Hasher`s (SipHash, keyed per process, so a
/// file's content cannot be chosen to collide), told apart by a leading byte.
struct InputKey: Equatable, Sendable {
    var a: Int
    var b: Int
}

extension FileChange {
    /// Every field equal: a derivation from one is a derivation from the other.
    func sameInput(_ o: FileChange) -> Bool {
        path == o.path && change == o.change && fileClass == o.fileClass && secrecy == o.secrecy
            && old == o.old && new == o.new && firstSeen == o.firstSeen && unstable == o.unstable
            && overReadLimit == o.overReadLimit
    }

    /// Equal for two changes of one path whose every field `sameInput` compares is equal; unequal
    /// otherwise but with a chance of 2⁻¹²⁸.
    func inputKey() -> InputKey {
        var h = Hasher()
        var g = Hasher()
        h.combine(UInt8(0))
        g.combine(UInt8(1))
        feed(&h)
        feed(&g)
        return InputKey(a: h.finalize(), b: g.finalize())
    }

    private func feed(_ h: inout Hasher) {
        // The one-byte fields as one word: a raw-value enum hashes its String (a tenth of a
        // watcher's batch when combined field by field).
        var small = UInt64(Self.code(change)) | UInt64(Self.code(fileClass)) << 8
        small |= UInt64(Self.code(secrecy)) << 16 | UInt64(unstable ? 1 : 0) << 24
        small |= UInt64(overReadLimit ? 1 : 0) << 25
        small |= Self.code(old) << 32 | Self.code(new) << 40
        h.combine(small)
        Self.feed(old, &h)
        Self.feed(new, &h)
        h.combine(firstSeen.timeIntervalSinceReferenceDate.bitPattern)
    }

    private static func feed(_ e: EntryState?, _ h: inout Hasher) {
        guard let e else { return }
        h.combine(e.digest)
        h.combine(e.size)
        h.combine(e.target)
    }

    /// Presence, kind and mode of an entry, in a byte.
    private static func code(_ e: EntryState?) -> UInt64 {
        guard let e else { return 0 }
        let kind: UInt64
        switch e.kind {
        case .regular: kind = 1
        case .symlink: kind = 2
        case .directory: kind = 3
        case .special: kind = 4
        }
        return kind | (e.executable ? 0x10 : 0)
    }

    private static func code(_ c: ChangeKind) -> UInt8 {
        switch c {
        case .modified: 1
        case .added: 2
        case .deleted: 3
        case .mode: 4
        case .type: 5
        case .bytecode: 6
        }
    }

    private static func code(_ c: FileClass) -> UInt8 {
        switch c {
        case .code: 1
        case .config: 2
        case .data: 3
        case .ignore: 4
        }
    }

    private static func code(_ s: Secrecy) -> UInt8 {
        switch s {
        case .none: 0
        case .name: 1
        case .content: 2
        case .unchecked: 3
        }
    }
}

/// Which paths' state items a merge must derive again although their change is the one kept:
/// those whose own item in the loaded state changed, and those below a summary item that
/// changed (`SummaryIndex.covering` looks at every summary above a path).
struct MergeInvalidation {
    /// Raw paths whose own item was added, removed or changed, sorted.
    var own: [[UInt8]] = []
    /// Raw directories (no trailing `/`; empty: the root) whose summary item changed.
    var summaries: [[UInt8]] = []
    /// Too much changed to check per path: derive everything.
    var all = false

    /// Summaries changed beyond this: every path is derived again (the per-path check would cost more).
    static let summaryLimit = 16

    init(_ before: [DriftState.Item], _ now: [DriftState.Item]) {
        var old: [String: DriftState.Item] = [:]
        for i in before { old[i.path] = i }
        var changed: [DriftState.Item] = []
        for i in now {
            if let o = old.removeValue(forKey: i.path), o == i { continue }
            changed.append(i)
        }
        changed += old.values
        for i in changed {
            if i.count != nil {
                // A summary's path is its escaped directory with the trailing `/` ("" for the root).
                guard let raw = PathBytes.unescape(i.path.utf8) else {
                    all = true
                    return
                }
                summaries.append(raw.last == UInt8(ascii: "/") ? Array(raw.dropLast()) : raw)
            } else if let raw = PathBytes.unescape(i.path.utf8) {
                own.append(raw)
            } else {
                all = true
                return
            }
        }
        if summaries.count > Self.summaryLimit { all = true }
        own.sort(by: bytesLess)
    }

    /// The positions of `changes` (sorted by path) whose items are to be derived again; nil: all.
    func positions(_ changes: [FileChange]) -> [Int]? {
        if all { return nil }
        func lowerBound(_ p: [UInt8]) -> Int {
            var lo = 0
            var hi = changes.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if bytesLess(changes[mid].path, p) { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        var out: [Int] = []
        for p in own {
            let k = lowerBound(p)
            if k < changes.count && changes[k].path == p { out.append(k) }
        }
        for d in summaries {
            if d.isEmpty { return nil }
            let k = lowerBound(d)
            if k < changes.count && changes[k].path == d { out.append(k) }
            let below = d + [UInt8(ascii: "/")]
            var j = lowerBound(below)
            while j < changes.count && changes[j].path.starts(with: below) {
                out.append(j)
                j += 1
            }
        }
        out.sort()
        return out
    }

    /// Whether a path's item is to be derived again; `cursor` walks `own` (paths asked in order).
    func contains(_ path: [UInt8], cursor: inout Int) -> Bool {
        if all { return true }
        while cursor < own.count && bytesLess(own[cursor], path) { cursor += 1 }
        if cursor < own.count && own[cursor] == path { return true }
        return summaries.contains { PathBytes.isWithin(path, $0) }
    }
}
