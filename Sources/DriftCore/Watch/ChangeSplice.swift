/// How a watch batch's drifted list differs from the list the last record handed back (issue 28:
/// an edit journaled within a second beside a million drifted paths). Hunks in increasing order,
/// each saying `old[hunk.old]` became `new[hunk.new]`; between hunks the two lists hold the same
/// changes, field for field, in the same order. A record's steps keep a memo of what they made
/// of the last list (`generation`) and redo only the hunks; a memo of another generation, or no
/// splice, means the whole list.
struct ChangeSplice: Equatable, Sendable {
    struct Hunk: Equatable, Sendable {
        var old: Range<Int>
        var new: Range<Int>
    }

    /// Sorted, disjoint, never adjacent (two hunks always have an untouched change between them).
    private(set) var hunks: [Hunk]
    let oldCount: Int
    let newCount: Int
    /// The list this splice edits: the generation a memo must have made for the splice to apply.
    let from: UInt64
    /// The list it makes (what a memo records once it has caught up).
    let to: UInt64

    /// A splice of `hunks` (sorted and disjoint; adjacent ones are joined).
    init(hunks: [Hunk], oldCount: Int, newCount: Int, from: UInt64, to: UInt64) {
        var joined: [Hunk] = []
        for h in hunks where !(h.old.isEmpty && h.new.isEmpty) {
            if let l = joined.last, l.old.upperBound == h.old.lowerBound, l.new.upperBound == h.new.lowerBound {
                joined[joined.count - 1] = Hunk(old: l.old.lowerBound..<h.old.upperBound,
                                                new: l.new.lowerBound..<h.new.upperBound)
            } else {
                joined.append(h)
            }
        }
        self.hunks = joined
        self.oldCount = oldCount
        self.newCount = newCount
        self.from = from
        self.to = to
    }

    /// The segments both lists share: `new` positions and the `old` position of their first.
    var untouched: [(new: Range<Int>, old: Int)] {
        var out: [(new: Range<Int>, old: Int)] = []
        var o = 0
        var n = 0
        for h in hunks {
            if h.new.lowerBound > n { out.append((n..<h.new.lowerBound, o)) }
            o = h.old.upperBound
            n = h.new.upperBound
        }
        if n < newCount { out.append((n..<newCount, o)) }
        return out
    }

    /// How many positions of the new list the hunks hold (what a step redoes).
    var touchedCount: Int { hunks.reduce(0) { $0 + $1.new.count } }

    /// The old position of new position `i` when it is untouched; nil inside a hunk.
    func oldIndex(ofNew i: Int) -> Int? {
        // The last hunk starting at or before `i`.
        var lo = 0
        var hi = hunks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if hunks[mid].new.lowerBound <= i { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return i }
        let h = hunks[lo - 1]
        if h.new.contains(i) { return nil }
        return h.old.upperBound + (i - h.new.upperBound)
    }

    /// This splice with the untouched new positions `marked` redone too (a step before the
    /// others changed them: a secret verdict judged again). `marked` need not be sorted.
    func marking(_ marked: [Int]) -> ChangeSplice {
        if marked.isEmpty { return self }
        var added: [Hunk] = []
        for i in Set(marked).sorted() {
            guard let o = oldIndex(ofNew: i) else { continue }
            added.append(Hunk(old: o..<(o + 1), new: i..<(i + 1)))
        }
        var all = hunks + added
        all.sort { $0.new.lowerBound != $1.new.lowerBound
            ? $0.new.lowerBound < $1.new.lowerBound : $0.old.lowerBound < $1.old.lowerBound }
        return ChangeSplice(hunks: all, oldCount: oldCount, newCount: newCount, from: from, to: to)
    }

    /// `self` then `next` (which edits the list `self` makes) as one splice from `self.from` to
    /// `next.to`: for a step whose memo is of an older list (a record that skipped it).
    /// - Returns: nil when `next` does not edit this splice's list.
    func then(_ next: ChangeSplice) -> ChangeSplice? {
        guard next.from == to, next.oldCount == newCount else { return nil }
        // The untouched segments of both, intersected in the middle list's positions.
        let first = untouched
        var segments: [(new: Range<Int>, old: Int)] = []
        var k = 0
        for s in next.untouched {
            let mid = s.old..<(s.old + s.new.count)
            while k < first.count && first[k].new.upperBound <= mid.lowerBound { k += 1 }
            var j = k
            while j < first.count && first[j].new.lowerBound < mid.upperBound {
                let lo = max(mid.lowerBound, first[j].new.lowerBound)
                let hi = min(mid.upperBound, first[j].new.upperBound)
                if lo < hi {
                    let shift = s.new.lowerBound - mid.lowerBound
                    segments.append(((lo + shift)..<(hi + shift), first[j].old + (lo - first[j].new.lowerBound)))
                }
                j += 1
            }
        }
        return ChangeSplice(untouched: segments, oldCount: oldCount, newCount: next.newCount, from: from, to: next.to)
    }

    /// The splice whose untouched segments are `segments` (sorted, disjoint in both lists).
    init(untouched segments: [(new: Range<Int>, old: Int)], oldCount: Int, newCount: Int, from: UInt64, to: UInt64) {
        var hunks: [Hunk] = []
        var o = 0
        var n = 0
        for s in segments where !s.new.isEmpty {
            hunks.append(Hunk(old: o..<s.old, new: n..<s.new.lowerBound))
            o = s.old + s.new.count
            n = s.new.upperBound
        }
        hunks.append(Hunk(old: o..<oldCount, new: n..<newCount))
        self.init(hunks: hunks, oldCount: oldCount, newCount: newCount, from: from, to: to)
    }

    /// The identity splice of a list of `count` changes (a batch that touched none).
    static func unchanged(count: Int, from: UInt64, to: UInt64) -> ChangeSplice {
        ChangeSplice(hunks: [], oldCount: count, newCount: count, from: from, to: to)
    }
}

extension ChangeSplice {
    /// The splice an in-place `mergeScoped(into:)` made: the old positions it `dropped` and the
    /// old position each inserted element went before (both increasing).
    init(dropped: [Int], insertedBefore: [Int], oldCount: Int, from: UInt64, to: UInt64) {
        var hunks: [Hunk] = []
        var offset = 0
        var i = 0
        var j = 0
        while i < dropped.count || j < insertedBefore.count {
            let nextDrop = i < dropped.count ? dropped[i] : Int.max
            let start = min(nextDrop, j < insertedBefore.count ? insertedBefore[j] : Int.max)
            var end = start
            var inserted = 0
            while true {
                // An insertion at `end` is before old[end], right after what the hunk dropped.
                if j < insertedBefore.count && insertedBefore[j] <= end {
                    inserted += 1
                    j += 1
                } else if i < dropped.count && dropped[i] == end {
                    end += 1
                    i += 1
                } else {
                    break
                }
            }
            hunks.append(Hunk(old: start..<end, new: (start + offset)..<(start + offset + inserted)))
            offset += inserted - (end - start)
        }
        self.init(hunks: hunks, oldCount: oldCount, newCount: oldCount + offset, from: from, to: to)
    }
}
