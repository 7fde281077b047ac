import Testing
@testable import DriftCore
@testable import DriftSystem

/// The splice a watch batch hands its record (issue 28) against what the list edit did, on random
/// lists and scopes (`ScopedMergeTests`' paths, bytes that are not UTF-8 included).
@Suite("drift watch: the splice of a batch says what the edit changed")
struct ChangeSpliceTests {
    typealias Rand = ScopedMergeTests.Rand

    /// Every untouched position holds the old element it names; every inserted element and no
    /// untouched one is in a hunk; every dropped old element is in a hunk.
    static func check(_ s: ChangeSplice, old: [Int], new: [Int], inserted: Set<Int>) {
        #expect(s.oldCount == old.count)
        #expect(s.newCount == new.count)
        var covered = [Bool](repeating: false, count: new.count)
        var oldCovered = [Bool](repeating: false, count: old.count)
        for h in s.hunks {
            for i in h.new { covered[i] = true }
            for i in h.old { oldCovered[i] = true }
        }
        var lastEnd = (-1, -1)
        for h in s.hunks {
            #expect(h.new.lowerBound > lastEnd.1 || lastEnd.1 < 0)
            lastEnd = (h.old.upperBound, h.new.upperBound)
        }
        let kept = Set(new).subtracting(inserted)
        for (k, e) in old.enumerated() where !kept.contains(e) { #expect(oldCovered[k], "dropped \(k) not in a hunk") }
        for (i, e) in new.enumerated() {
            if let o = s.oldIndex(ofNew: i) {
                #expect(!covered[i])
                #expect(old[o] == e, "new \(i) says old \(o)")
            } else {
                #expect(covered[i])
            }
            if inserted.contains(e) { #expect(covered[i], "inserted \(e) untouched") }
        }
        var n = 0
        for u in s.untouched {
            n += u.new.count
            for (k, i) in u.new.enumerated() { #expect(new[i] == old[u.old + k]) }
        }
        #expect(n + s.touchedCount == new.count)
    }

    static func edit(_ r: inout Rand, _ base: [([UInt8], Int)], next: inout Int, from: UInt64)
        -> (new: [([UInt8], Int)], splice: ChangeSplice, inserted: Set<Int>) {
        let scope = ScopedMergeTests.scope(&r, base.map(\.0))
        let partPaths = ScopedMergeTests.part(&r, scope)
        var inserted = Set<Int>()
        let part = partPaths.map { p -> ([UInt8], Int) in
            next += 1
            inserted.insert(next)
            return (p, next)
        }
        var got = base
        let edit = mergeScoped(into: &got, part, scope, path: \.0)
        let s = ChangeSplice(dropped: edit.dropped, insertedBefore: edit.insertedBefore, oldCount: base.count,
                             from: from, to: from + 1)
        return (got, s, inserted)
    }

    @Test("a scoped edit's splice", arguments: 0..<60)
    func spliceOfEdit(seed: UInt64) {
        var r = Rand(state: seed)
        let paths = ScopedMergeTests.sortedPaths(&r, r.below(50))
        let base = paths.enumerated().map { ($0.element, $0.offset) }
        var next = 10_000
        let (new, s, inserted) = Self.edit(&r, base, next: &next, from: 1)
        Self.check(s, old: base.map(\.1), new: new.map(\.1), inserted: inserted)
    }

    @Test("two edits' splices composed, and positions marked", arguments: 0..<60)
    func composed(seed: UInt64) {
        var r = Rand(state: seed)
        let paths = ScopedMergeTests.sortedPaths(&r, r.below(50))
        let base = paths.enumerated().map { ($0.element, $0.offset) }
        var next = 10_000
        let (mid, s1, in1) = Self.edit(&r, base, next: &next, from: 1)
        let (new, s2, in2) = Self.edit(&r, mid, next: &next, from: 2)
        #expect(s1.then(s2) != nil)
        guard let s = s1.then(s2) else { return }
        #expect(s.from == 1 && s.to == 3)
        Self.check(s, old: base.map(\.1), new: new.map(\.1), inserted: in1.union(in2))
        #expect(s2.then(s1) == nil)
        let marked = (0..<r.below(4)).compactMap { _ in new.isEmpty ? nil : r.below(new.count) }
        let m = s.marking(marked)
        Self.check(m, old: base.map(\.1), new: new.map(\.1), inserted: in1.union(in2))
        for i in marked { #expect(m.oldIndex(ofNew: i) == nil) }
    }

    @Test("no edit is the identity")
    func identity() {
        let s = ChangeSplice.unchanged(count: 5, from: 3, to: 4)
        #expect(s.hunks.isEmpty && s.touchedCount == 0)
        #expect(s.untouched.count == 1 && s.untouched[0].new == 0..<5 && s.untouched[0].old == 0)
        #expect(s.oldIndex(ofNew: 4) == 4)
        let e = ChangeSplice(dropped: [], insertedBefore: [], oldCount: 0, from: 0, to: 1)
        #expect(e.untouched.isEmpty && e.newCount == 0)
    }
}
