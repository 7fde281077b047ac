import DriftSystem

// `mergeScoped` made where the list is: a watch batch replaces a few paths of a million, and a
// merged copy of the model's lists (160 bytes a drifted path, 144 a cached one) was most of
// its memory and its peak (issue 28). The same elements in the same order as `mergeScoped`
// (`ScopedMergeTests`); the list's storage is copied only when something else holds it.

/// The indices of `base` (sorted by `path`) at or below a member of `scope`, increasing.
private func scopedIndices(_ count: Int, _ scope: ScanScope, exact: ([UInt8]) -> Range<Int>,
                           below: ([UInt8]) -> Range<Int>) -> [Int] {
    var out: [Int] = []
    for set in [scope.paths, scope.trees] {
        for t in set {
            out += exact(t)
            out += below(t)
        }
    }
    out.sort()
    var w = 0
    for r in out.indices where w == 0 || out[w - 1] != out[r] {
        out[w] = out[r]
        w += 1
    }
    out.removeLast(out.count - w)
    return out
}

/// `base = mergeScoped(base, part, scope, path: path)`, in place: the dropped elements
/// compacted away, then `part` merged in from the back (every element moves at most once).
/// - Returns: the old positions dropped and, for each part element, the old position it went
///   before (both increasing): what `ChangeSplice(dropped:insertedBefore:…)` makes a splice of.
@discardableResult
func mergeScoped<T>(into base: inout [T], _ part: [T], _ scope: ScanScope,
                    path: (T) -> [UInt8]) -> (dropped: [Int], insertedBefore: [Int]) {
    let dropped = scopedIndices(base.count, scope, exact: { p in
        let lo = lowerBound(base.count) { bytesLess(path(base[$0]), p) }
        var hi = lo
        while hi < base.count && path(base[hi]) == p { hi += 1 }
        return lo..<hi
    }, below: { treeRange(base, $0, path: path) })
    // Where each part element goes among the elements before the edit: after every one whose
    // path is not greater (`mergeScoped` emits a part element before the first greater one).
    var at = part.map { e in
        let p = path(e)
        return lowerBound(base.count) { !bytesLess(p, path(base[$0])) }
    }
    // Each part element's place in the old list (before `at` counts the dropped ones out).
    let before = at
    if !dropped.isEmpty {
        var w = dropped[0], k = 0
        for r in dropped[0]..<base.count {
            if k < dropped.count && dropped[k] == r {
                k += 1
                continue
            }
            base.swapAt(w, r)
            w += 1
        }
        base.removeLast(base.count - w)
        var j = 0
        for n in at.indices {
            while j < dropped.count && dropped[j] < at[n] { j += 1 }
            at[n] -= j
        }
    }
    if part.isEmpty { return (dropped, before) }
    var r = base.count - 1
    base.append(contentsOf: part)
    var w = base.count - 1
    for n in part.indices.reversed() {
        while r >= at[n] {
            base.swapAt(w, r)
            w -= 1
            r -= 1
        }
        base[w] = part[n]
        w -= 1
    }
    return (dropped, before)
}

extension StatCache.Records {
    /// `self = mergeScoped(self, part, scope)`, in place (`patch`): the records of the scope
    /// dropped or given their new entry, the part's others inserted; the path bytes kept.
    mutating func mergeScoped(_ part: StatCache.Records, _ scope: ScanScope) {
        let dropped = scopedIndices(count, scope, exact: { p in
            let lo = lowerBound(p)
            var hi = lo
            while hi < count && comparePath(hi, p) == 0 { hi += 1 }
            return lo..<hi
        }, below: { t in
            let lo = lowerBound(t + [UInt8(ascii: "/")])
            return lo..<Swift.max(lo, lowerBound(t + [UInt8(ascii: "0")]))
        })
        var replace: [(Int, StatCache.Entry?)] = []
        var insert: [(at: Int, path: [UInt8], entry: StatCache.Entry)] = []
        var k = 0
        var from = 0
        for j in part.indices {
            let p = part.path(j)
            let i = lowerBound(p, from: from)
            from = i
            // Records before this one's place that the scope drops.
            while k < dropped.count && dropped[k] < i {
                replace.append((dropped[k], nil))
                k += 1
            }
            if k < dropped.count && dropped[k] == i && comparePath(i, p) == 0 {
                // A dropped record of the very path: it takes the part's entry.
                replace.append((i, part.entry(j)))
                k += 1
            } else if i < count && comparePath(i, p) == 0 {
                // Kept (outside the scope: not a batch's part): `mergeScoped` puts the part's after it.
                insert.append((i + 1, p, part.entry(j)))
            } else {
                insert.append((i, p, part.entry(j)))
            }
        }
        while k < dropped.count {
            replace.append((dropped[k], nil))
            k += 1
        }
        patch(replace: replace, insert: insert)
    }
}
