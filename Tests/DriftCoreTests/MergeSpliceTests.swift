import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// A watcher's merge from the batch's splice (`ChangeSplice`, issue 28 round 13): untouched changes
/// take their entries and fold runs from the memo by position, only hunks and what the loaded state
/// changed are derived, and the fold works on runs. Many batches in a row, random splices (edits,
/// removals, insertions, a directory crossing the fold's threshold up and down), state edits between
/// (exports of paths and of summaries), splices the memo cannot use: every merge writes what a merge
/// without a memo writes, in the same order, and what the entry-by-entry folds write.
@Suite struct MergeSpliceTests {
    typealias SplitMix = StateFoldTests.SplitMix

    /// A change whose class follows its directory but for a few (runs of many entries), or any
    /// class (runs of one or two: past the memo's run limit).
    static func change(_ p: [UInt8], _ rng: inout SplitMix, clustered: Bool) throws -> FileChange {
        var c = try StateFoldTests.change(p, &rng)
        guard clustered, Int.random(in: 0..<60, using: &rng) != 0 else { return c }
        let dir = p[..<(p.lastIndex(of: UInt8(ascii: "/")) ?? 0)]
        c.change = .added
        c.fileClass = p.starts(with: Array("pkg/".utf8)) || p.starts(with: Array("bulk/".utf8))
            ? .data : [FileClass.data, .config, .code][dir.reduce(0) { $0 + Int($1) } % 3]
        return c
    }

    /// The next batch's list from `list` and its splice: changes edited in place, removed and
    /// inserted (names around `/`, bytes that are not UTF-8, 1,200 in one new directory), or a
    /// block of them removed.
    static func batch(_ list: [FileChange], _ rng: inout SplitMix, round: Int, clustered: Bool,
                      from: UInt64) throws -> (list: [FileChange], splice: ChangeSplice) {
        var edited = Set<Int>()
        var dropped = Set<Int>()
        for _ in 0..<Int.random(in: 0...6, using: &rng) { edited.insert(Int.random(in: 0..<list.count, using: &rng)) }
        for _ in 0..<Int.random(in: 0...4, using: &rng) { dropped.insert(Int.random(in: 0..<list.count, using: &rng)) }
        if round % 5 == 4 {
            // The bulk directory an earlier batch added, mostly gone: its summary unfolds.
            let bulk = list.indices.filter { list[$0].path.starts(with: Array("bulk/".utf8)) }
            for k in bulk.prefix(bulk.count - Int.random(in: 0..<40, using: &rng)) { dropped.insert(k) }
        }
        let present = Set(list.map(\.path))
        var names: [[UInt8]] = []
        let dirs = ["a/", "a/b/", "a/b", "a/b.", "a/b0/", "", "pkg/models/z/", "deep/1/2/"]
        for n in 0..<Int.random(in: 0...5, using: &rng) {
            let dir = dirs[Int.random(in: 0..<dirs.count, using: &rng)]
            var p = Array((dir + "n\(round)-\(n)").utf8)
            if Bool.random(using: &rng) { p.append(0xFE) }
            names.append(p)
        }
        if round % 5 == 1 {
            // 1,200 added files in one new directory: a summary of their own.
            for n in 0..<1_200 { names.append(Array("bulk/r\(round)/f\(n)".utf8)) }
        }
        var inserts = try Set(names).subtracting(present).sorted(by: PathBytes.less)
            .map { try change($0, &rng, clustered: clustered) }
        inserts = inserts.filter { !$0.path.isEmpty }
        var out: [FileChange] = []
        var droppedOld: [Int] = []
        var insertedBefore: [Int] = []
        var i = 0
        for (k, c) in list.enumerated() {
            while i < inserts.count && PathBytes.less(inserts[i].path, c.path) {
                out.append(inserts[i])
                insertedBefore.append(k)
                i += 1
            }
            if dropped.contains(k) {
                droppedOld.append(k)
            } else if edited.contains(k) {
                var d = c
                MergeMemoTests.edit(&d, &rng)
                droppedOld.append(k)
                insertedBefore.append(k)
                out.append(d)
            } else {
                out.append(c)
            }
        }
        while i < inserts.count {
            out.append(inserts[i])
            insertedBefore.append(list.count)
            i += 1
        }
        let splice = ChangeSplice(dropped: droppedOld, insertedBefore: insertedBefore, oldCount: list.count,
                                  from: from, to: from + 1)
        return (out, splice)
    }

    /// Where two item lists first differ (a readable failure, not two lists of thousands).
    static func firstDifference(_ a: [DriftState.Item], _ b: [DriftState.Item]) -> String? {
        if let k = (0..<min(a.count, b.count)).first(where: { a[$0] != b[$0] }) { return "at \(k): \(a[k]) / \(b[k])" }
        return a.count == b.count ? nil : "\(a.count) items / \(b.count)"
    }

    @Test("merges from splices write what merges without a memo write: many batches in a row",
          arguments: [(UInt64(1), 700, true), (2, 2_600, true), (3, 21_000, true), (4, 2_600, false),
                      (5, 24_000, true), (6, 1_500, true)])
    func spliceEqualsFresh(seed: UInt64, n: Int, clustered: Bool) throws {
        var rng = SplitMix(state: seed)
        let paths = StateFoldTests.paths(n, &rng)
        var changes = try paths.map { try Self.change($0, &rng, clustered: clustered) }
        var state = DriftState(commit: String(repeating: "c", count: 40))
        state.items = StateFoldTests.loaded(paths, &rng)
        let memo = DerivationMemo()
        var generation: UInt64 = 1
        var splice: ChangeSplice?
        for round in 0..<12 {
            let ctx = "seed \(seed) round \(round)"
            var fresh = state
            var freshChanges = changes
            try fresh.merge(&freshChanges)
            var spliced = state
            var splicedChanges = changes
            try spliced.merge(&splicedChanges, memo: memo, splice: splice, generation: generation)
            #expect(Self.firstDifference(spliced.items, fresh.items) == nil, "\(ctx)")
            #expect(splicedChanges.map(\.firstSeen) == freshChanges.map(\.firstSeen), "\(ctx)")
            // The entry-by-entry folds: the reference of round 11 and `StateSummary.apply` over items.
            var keyed = state
            var keyedChanges = changes
            let keyedMemo = DerivationMemo()
            try keyed.merge(&keyedChanges, memo: keyedMemo)
            if let built = try keyedMemo.takeMerged()?.items(keyedChanges) {
                var reference = built
                StateFoldTests.Reference.apply(&reference)
                #expect(StateFoldTests.normalised(spliced.items) == StateFoldTests.normalised(reference), "\(ctx)")
                var entryByEntry = built
                StateSummary.apply(&entryByEntry)
                #expect(Self.firstDifference(spliced.items, entryByEntry) == nil, "\(ctx): the order")
            }
            state = spliced
            // The next batch: the merged list handed back, edited.
            let next = try Self.batch(splicedChanges, &rng, round: round, clustered: clustered, from: generation)
            changes = next.list
            generation += 1
            switch round % 6 {
            case 2:
                // A record that did not reach the merge: the memo is of an older list.
                splice = ChangeSplice(hunks: next.splice.hunks, oldCount: next.splice.oldCount,
                                      newCount: next.splice.newCount, from: generation + 50, to: generation)
            case 5:
                splice = nil
            default:
                splice = next.splice
            }
            // State items changed beside the watcher: an export of a path or of a summary.
            if round % 3 == 1, !state.items.isEmpty {
                let k = Int.random(in: 0..<state.items.count, using: &rng)
                state.items[k].exportedAt = Timestamp.format(StateFoldTests.now)
                state.items[k].exportId = "drift-\(round)"
            }
            if round % 4 == 3, let s = state.items.firstIndex(where: { $0.count != nil }) {
                state.items[s].exportedAt = Timestamp.format(StateFoldTests.now)
                state.items[s].exportId = "drift-s\(round)"
            }
        }
        #expect(memo.reusedItems.withLock { $0 } > n, "seed \(seed): the memo was used")
        // Rounds 0, 3, 6 and 9 redo everything (no splice, or one of another list); the others splice
        // unless the summaries the last merge changed are too many (`MergeInvalidation`): a tree over
        // the caps folds by depth, and a batch there may change summaries up to the root.
        #expect(memo.splicedMerges.withLock { $0 } >= (n > StateSummary.maxItems ? 1 : 4),
                "seed \(seed): merges from the splice")
        if clustered { #expect(memo.runMerges.withLock { $0 } == 12, "seed \(seed): runs kept") }
    }
}
