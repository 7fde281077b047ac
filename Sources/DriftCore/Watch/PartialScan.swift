import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// "Scan these paths": compares only the paths of a scope with the manifest — through the
/// same `Scanner`, so classes, hashes and the stat cache behave exactly as in a full scan —
/// and merges the answer into the last full result.
struct PartialScan {
    let context: ScanRunner.Context
    let classifier: Classifier
    /// A scan's re-verification slice: cached files in it are re-hashed (a cron scan's query).
    var reverify: ReverifySlice?
    /// Nominal bytes this rescan may hash; bigger files come back in `result.deferred`.
    var hashBudget: Int64?

    struct Outcome {
        var result: Scanner.Result
        /// What the scope's walk saw (bytecode checks and secret files need its stats).
        var walk: TreeWalk
        /// Something in the scope could not be read (the watcher then scans everything).
        var unreadable: [[UInt8]]
    }

    /// Compares the scope; a single path that turned out to be a directory joins the trees.
    /// `entering` sees every directory about to be walked, before it is read.
    func compare(_ scope: inout ScanScope, cache: StatCache, now: Date, entering: ([UInt8]) -> Void) throws -> Outcome {
        let root = context.rootBytes
        // Every lookup below the root goes through it with no symlink at any component:
        // a watched directory swapped for a symlink lists and stats nothing outside.
        let rootDir = RootDirectory(path: root)
        if case .failure(let e) = rootDir.withDirectory([], { _ in () }) {
            throw DriftError.posix(.unreadable, "open root", root, e)
        }
        var walk = TreeWalk(entries: [], issues: [], unreadableDirectories: [])

        scope.normalize()
        var stats: [[UInt8]: FileStat] = [:]
        for p in scope.paths {
            switch rootDir.lstat(p) {
            case .success(let st):
                if st.kind == .directory { scope.trees.insert(p) } else { stats[p] = st }
            case .failure(let e):
                if e.isGone { continue }
                walk.issues.append(WalkIssue(path: p, message: "cannot stat: \(e)"))
                walk.unreadableDirectories.append(p)
            }
        }
        scope.normalize()
        for p in scope.paths {
            guard let st = stats[p] else { continue }
            add(p, st, to: &walk)
        }
        for t in scope.trees { walkTree(t, rootDir: rootDir, into: &walk, entering: entering) }
        walk.entries.sort { bytesLess($0.path, $1.path) }

        var sub = context.manifest
        sub.entries = ManifestTable(manifestEntries(in: scope))
        var scanner = Scanner(manifest: sub, policy: context.policy, root: root, cache: cache)
        scanner.reverify = reverify
        scanner.hashBudget = hashBudget
        let result = try scanner.compare(walk, now: now)
        return Outcome(result: result, walk: walk, unreadable: walk.unreadableDirectories)
    }

    private func add(_ path: [UInt8], _ st: FileStat, to walk: inout TreeWalk) {
        let (c, secret) = classifier.classifyAll(path, isDirectory: st.kind == .directory)
        if c != .ignore { walk.entries.append(ClassifiedEntry(path: path, stat: st, fileClass: c, secret: secret)) }
    }

    private func walkTree(_ t: [UInt8], rootDir: RootDirectory, into walk: inout TreeWalk,
                          entering: ([UInt8]) -> Void) {
        let st: FileStat
        switch rootDir.lstat(t) {
        case .success(let s): st = s
        case .failure(let e):
            if !e.isGone {
                walk.issues.append(WalkIssue(path: t, message: "cannot stat: \(e)"))
                walk.unreadableDirectories.append(t)
            }
            return
        }
        add(t, st, to: &walk)
        guard st.kind == .directory, classifier.shouldDescend(t) else { return }
        entering(t)
        var entries: [ClassifiedEntry] = []
        let c = classifier
        do {
            // `t` and everything under it opened beneath the root (paths come out relative to it).
            let issues = try DirectoryWalker(root: context.rootBytes).walk(below: t, descend: { full in
                guard c.shouldDescend(full) else { return false }
                entering(full)
                return true
            }, visit: { full, st in
                let (fc, secret) = c.classifyAll(full, isDirectory: st.kind == .directory)
                guard fc != .ignore else { return }
                entries.append(ClassifiedEntry(path: full, stat: st, fileClass: fc, secret: secret))
            })
            for i in issues {
                if i.unreadableDirectory { walk.unreadableDirectories.append(i.path) }
                walk.issues.append(i)
            }
        } catch {
            // Replaced or made unreadable between the stat and the open.
            let message = "cannot open directory: \(error)"
            walk.issues.append(WalkIssue(path: t, message: message, unreadableDirectory: true))
            walk.unreadableDirectories.append(t)
        }
        walk.entries += entries
    }

    /// The manifest entries the scope covers, in manifest order.
    private func manifestEntries(in scope: ScanScope) -> [ManifestEntry] {
        let m = context.manifest.entries
        var picked: [Int] = []
        // A single path's subtree too: it is not a directory now (or it would be a tree), so
        // what the manifest has below it is compared with nothing there, and reported deleted.
        for set in [scope.paths, scope.trees] {
            for t in set {
                if let i = m.index(of: t) { picked.append(i) }
                let lo = m.lowerBound(t + [UInt8(ascii: "/")]), hi = m.lowerBound(t + [UInt8(ascii: "0")])
                picked += Array(lo..<max(lo, hi))
            }
        }
        picked.sort()
        // A path below another single path is picked twice.
        var unique: [Int] = []
        unique.reserveCapacity(picked.count)
        for i in picked where unique.last != i { unique.append(i) }
        return unique.map { m[$0] }
    }
}

/// The first index whose path is not below `key` (entries sorted by path bytes).
func lowerBound(_ entries: [ManifestEntry], _ key: [UInt8]) -> Int {
    lowerBound(entries.count) { bytesLess(entries[$0].path, key) }
}

func lowerBound(_ count: Int, _ below: (Int) -> Bool) -> Int {
    var lo = 0, hi = count
    while lo < hi {
        let mid = (lo + hi) / 2
        if below(mid) { lo = mid + 1 } else { hi = mid }
    }
    return lo
}

/// The indices of entries strictly below directory `t`: the paths starting `t/` lie,
/// in byte order, between `t/` and `t0` (`0` follows `/`).
func treeRange<T>(_ sorted: [T], _ t: [UInt8], path: (T) -> [UInt8]) -> Range<Int> {
    let lo = lowerBound(sorted.count) { bytesLess(path(sorted[$0]), t + [UInt8(ascii: "/")]) }
    let hi = lowerBound(sorted.count) { bytesLess(path(sorted[$0]), t + [UInt8(ascii: "0")]) }
    return lo..<max(lo, hi)
}

extension Errno {
    /// The path is not (or no longer) in the tree: gone, or a component is now a file or a
    /// symlink (which the beneath lookup refuses; the symlink itself is its parent's entry).
    var isGone: Bool {
        [.noSuchFileOrDirectory, .notDirectory, .tooManySymbolicLinkLevels, .improperLink].contains(self)
    }
}

extension Scanner.Result {
    /// Replaces what this result says about the paths in `scope` with `part` (a comparison
    /// of exactly that scope). Every list stays sorted by path bytes, and is edited where it
    /// is (copied only when another holds it): a batch over a few paths of a million moves
    /// slots, it does not copy them (issue 28). When the scope only replaces cached paths, the
    /// records are updated where they are, O(scope log n), without moving any.
    /// - Returns: how the drifted list changed (positions: `ChangeSplice(dropped:insertedBefore:…)`).
    @discardableResult
    mutating func replace(_ scope: ScanScope, with part: Scanner.Result) -> (dropped: [Int], insertedBefore: [Int]) {
        let edit = mergeScoped(into: &changes, part.changes, scope, path: \.path)
        mergeScoped(into: &issues, part.issues, scope, path: \.path)
        if !newCache.entries.replaceInPlace(part.newCache.entries, scope) {
            newCache.entries.mergeScoped(part.newCache.entries, scope)
        }
        filesChecked = part.filesChecked
        filesHashed = part.filesHashed
        // The bytes each reported version was hashed from (the journal records exactly those).
        for (path, bytes) in part.contents { contents[path] = bytes }
        // Few contents, many changes (sorted): each looked up, not every path hashed.
        contents = contents.filter { key, _ in
            let k = lowerBound(changes.count) { bytesLess(changes[$0].path, key) }
            return k < changes.count && changes[k].path == key
        }
        return edit
    }
}

extension Scanner.Result {
    /// The drifted paths of this result, outside `scope`, that are a directory above one of
    /// `found` (the drift a rescan of `scope` found): stale, since the rescan looked through them.
    func driftedAncestors(of found: [FileChange], outside scope: ScanScope) -> Set<[UInt8]> {
        var out: Set<[UInt8]> = []
        if changes.isEmpty { return out }
        for f in found {
            let p = f.path
            var i = 0
            while i < p.count {
                if p[i] == UInt8(ascii: "/") {
                    let a = Array(p[0..<i])
                    let k = lowerBound(changes.count) { bytesLess(changes[$0].path, a) }
                    if k < changes.count && changes[k].path == a && !scope.contains(a) { out.insert(a) }
                }
                i += 1
            }
        }
        return out
    }
}

/// `base` without the elements inside `scope` (at or below its paths and trees), merged with
/// `part`; both sorted by path.
func mergeScoped<T>(_ base: [T], _ part: [T], _ scope: ScanScope, path: (T) -> [UInt8]) -> [T] {
    var drop = [Bool](repeating: false, count: base.count)
    func exact(_ p: [UInt8]) {
        var i = lowerBound(base.count) { bytesLess(path(base[$0]), p) }
        while i < base.count && path(base[i]) == p {
            drop[i] = true
            i += 1
        }
    }
    // Below a single path too: a path that is no longer a directory has nothing below it.
    for set in [scope.paths, scope.trees] {
        for t in set {
            exact(t)
            for i in treeRange(base, t, path: path) { drop[i] = true }
        }
    }
    var out: [T] = []
    out.reserveCapacity(base.count + part.count)
    var j = 0
    for (i, e) in base.enumerated() where !drop[i] {
        while j < part.count && bytesLess(path(part[j]), path(e)) {
            out.append(part[j])
            j += 1
        }
        out.append(e)
    }
    out += part[j...]
    return out
}

/// `mergeScoped` for the flat stat-cache records: paths compared in place, none allocated.
func mergeScoped(_ base: StatCache.Records, _ part: StatCache.Records, _ scope: ScanScope) -> StatCache.Records {
    var drop = [Bool](repeating: false, count: base.count)
    func exact(_ p: [UInt8]) {
        var i = base.lowerBound(p)
        while i < base.count && base.comparePath(i, p) == 0 {
            drop[i] = true
            i += 1
        }
    }
    for set in [scope.paths, scope.trees] {
        for t in set {
            exact(t)
            let lo = base.lowerBound(t + [UInt8(ascii: "/")])
            for i in lo..<max(lo, base.lowerBound(t + [UInt8(ascii: "0")])) { drop[i] = true }
        }
    }
    var out = StatCache.Records()
    out.reserve(base.count + part.count, pathBytes: base.paths.count + part.paths.count)
    var j = 0
    for i in base.indices where !drop[i] {
        while j < part.count && part.withPath(j, { base.comparePath(i, $0) }) > 0 {
            out.append(from: part, j)
            j += 1
        }
        out.append(from: base, i)
    }
    while j < part.count {
        out.append(from: part, j)
        j += 1
    }
    return out
}
