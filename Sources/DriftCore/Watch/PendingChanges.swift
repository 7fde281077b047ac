import DriftGit
import DriftSystem
/// Paths touched by events and not yet scanned, each with the time of its first and last
/// event (monotonic seconds). A path is ready once it has been quiet for the settle time,
/// or once it has waited the maximum, so a file rewritten forever is still recorded — and
/// at once when its writer is done with it (a close-write, a rename into place, a delete):
/// settle then only merges a burst. Site-packages changes are one pip operation, ready by
/// their own rule (`PipRule`).
public struct PendingChanges {
    struct Key: Hashable {
        /// A directory to walk whole, or a single path.
        var tree: Bool
        var path: [UInt8]
    }

    struct Times {
        var first: Double
        var last: Double
        /// Ready from this time on whatever follows (the writer closed the file).
        var due: Double?
        /// Every event of this path was of a data-class, non-secret path (`FloodPacing` may hold it).
        var data = false
    }

    /// When site-packages changes are one finished pip operation: quiet for `settle`, and no
    /// install or uninstall visibly under way (`busy`), or waiting since `cap` at most.
    struct PipRule {
        var settle: Double
        var cap: Double
        var busy: Bool
    }

    private var items: [Key: Times] = [:]
    private var trees: Set<[UInt8]> = []
    private var pip: Times?
    /// The earliest first event of anything pending (nil when nothing is).
    public private(set) var oldestFirst: Double?
    /// How many pending paths are data alone (`Times.data`).
    private(set) var dataCount = 0

    public init() {}

    public var isEmpty: Bool { items.isEmpty && pip == nil }
    public var count: Int { items.count + (pip == nil ? 0 : 1) }

    /// A single path changed (file, symlink, special, or an entry removed). `complete`: its
    /// writer is done (close-write, renamed into place, deleted), so it is ready at once.
    /// `data`: the path is data and not secret (anything else is never held back).
    mutating func touch(path: [UInt8], at now: Double, complete: Bool = false, data: Bool = false) {
        // Inside (or the same path as) a directory already due for a whole walk: that walk
        // covers it; the event only shows the directory is still busy (a burst settles as one batch).
        if let t = pendingAncestor(of: path, includingSelf: true) {
            bump(Key(tree: true, path: t), now, data: data)
            return
        }
        bump(Key(tree: false, path: path), now, due: complete ? now : nil, data: data)
    }

    /// A directory appeared, moved or went away: walk it whole.
    mutating func touch(tree: [UInt8], at now: Double, data: Bool = false) {
        if let t = pendingAncestor(of: tree, includingSelf: true) {
            bump(Key(tree: true, path: t), now, data: data)
            return
        }
        trees.insert(tree)
        // The walk covers the path's own rescan (a directory where a file was, or back).
        let single = remove(Key(tree: false, path: tree))
        let k = Key(tree: true, path: tree)
        bump(k, now, data: data && (single?.data ?? true))
        if let first = single?.first, let t = items[k], first < t.first { items[k]?.first = first }
    }

    /// Something under a site-packages directory changed: the pip comparison reruns.
    mutating func touchPip(at now: Double) {
        pip = Times(first: pip?.first ?? now, last: now)
        if oldestFirst == nil { oldestFirst = now }
    }

    private mutating func bump(_ k: Key, _ now: Double, due: Double? = nil, data: Bool) {
        let old = items[k]
        // A key is data only while every event it took was: one code file makes it urgent for good.
        let isData = data && (old?.data ?? true)
        if old?.data == true { dataCount -= 1 }
        if isData { dataCount += 1 }
        items[k] = Times(first: old?.first ?? now, last: now, due: old?.due ?? due, data: isData)
        if oldestFirst == nil { oldestFirst = now }
    }

    private mutating func remove(_ k: Key) -> Times? {
        let t = items.removeValue(forKey: k)
        if t?.data == true { dataCount -= 1 }
        return t
    }

    private func pendingAncestor(of path: [UInt8], includingSelf: Bool) -> [UInt8]? {
        if trees.isEmpty { return nil }
        if includingSelf && trees.contains(path) { return path }
        var i = 0
        while i < path.count {
            if path[i] == UInt8(ascii: "/"), trees.contains(Array(path[0..<i])) { return Array(path[0..<i]) }
            i += 1
        }
        return nil
    }

    /// When the earliest pending path becomes ready, or nil when nothing is pending.
    /// `heldUntil`: data paths are held back until then (`FloodPacing`).
    func nextDeadline(settle: Double, maxWait: Double, pipRule: PipRule, heldUntil: Double? = nil) -> Double? {
        var best: Double?
        func consider(_ d: Double) {
            if best == nil || d < best! { best = d }
        }
        for t in items.values {
            let ready = min(t.last + settle, t.first + maxWait, t.due ?? .infinity)
            consider(t.data ? max(ready, heldUntil ?? ready) : ready)
        }
        if let pip {
            let capped = pip.first + pipRule.cap
            consider(pipRule.busy ? capped : min(pip.last + pipRule.settle, capped))
        }
        return best
    }

    /// Removes and returns what is ready at `now` (everything with `all`): the scope to
    /// rescan and whether site-packages must be compared again. `holdData`: data paths stay
    /// pending (not with `all`: a query, a stop).
    mutating func takeReady(now: Double, settle: Double, maxWait: Double, pipRule: PipRule,
                            all: Bool = false, holdData: Bool = false) -> (ScanScope, pip: Bool) {
        func ready(_ t: Times) -> Bool {
            if all { return true }
            if holdData && t.data { return false }
            return now >= t.last + settle || now >= t.first + maxWait || t.due.map { now >= $0 } == true
        }
        var scope = ScanScope()
        for (k, t) in items where ready(t) {
            if k.tree { scope.trees.insert(k.path) } else { scope.paths.insert(k.path) }
            _ = remove(k)
            if k.tree { trees.remove(k.path) }
        }
        var pipReady = false
        if let p = pip, all || now >= p.first + pipRule.cap || !pipRule.busy && now >= p.last + pipRule.settle {
            pipReady = true
            pip = nil
        }
        oldestFirst = (items.values.map(\.first) + (pip.map { [$0.first] } ?? [])).min()
        return (scope, pipReady)
    }

    mutating func removeAll() {
        items.removeAll()
        dataCount = 0
        trees.removeAll()
        pip = nil
        oldestFirst = nil
    }
}
