import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Keeps `state.json` small whatever the tree holds: drift that is one event many times over
/// (70,000 files unpacked under `packages/models/x/`) is remembered as one summary item
/// ("70000 added under packages/models/x/") with the earliest first sighting, not 70,000
/// items of kilobyte names. Code is summarised only when nothing else is left to fold, so
/// every code path keeps its own first sighting in any tree a person could review.
enum StateSummary {
    /// More non-code paths than this of one change and class directly in one directory fold
    /// into one item for the directory.
    static let perDirectory = 1_000
    /// After that, the whole state is folded by directory depth until it has at most this many
    /// items and at most `pathBytes` of paths (a `state.json` of a few MiB, read back in
    /// milliseconds, far below the read cap).
    static let maxItems = 20_000
    static let pathBytes = 4 << 20

    /// Folds `items` (sorted, merged) under the caps; keeps them sorted.
    static func apply(_ items: inout [DriftState.Item]) {
        var f = StateFold(items: items)
        items = []
        apply(&f)
        items = f.entries.compactMap { $0 < 0 ? f.built[~$0] : nil }
    }

    /// `apply(_:)` over `runs` (`FoldRun`: they cover `f.entries` in order, made of a merge's
    /// entries): the same entries in the same order, each run grouped whole, so what costs is the
    /// runs, the summaries made and the entries left, not every entry (issue 28 round 13).
    static func apply(_ f: inout StateFold, runs: [FoldRun]) {
        var fold = RunFold(runs)
        if f.entries.count <= perDirectory && !fold.overCaps { return }
        fold.fold(&f, codeToo: false, threshold: perDirectory) { r in r.dir }
        for codeToo in [false, true] {
            var d = fold.maxDepth
            while d >= 0 && fold.overCaps {
                let level = d
                fold.fold(&f, codeToo: codeToo, threshold: 1) { r in RunFold.ancestor(r, depth: level) }
                d -= 1
            }
        }
        fold.order(&f)
    }

    /// A summary's identity within a fold: its directory, change and class.
    struct Key: Hashable {
        var dir: String
        var change: ChangeKind
        var fileClass: FileClass?

        /// The order summaries made by one fold take among themselves (path, then change and class as
        /// `StateLog.canonicalOrder`): summaries of one directory come out the same in every process.
        static func less(_ a: Key, _ b: Key) -> Bool {
            if a.dir != b.dir { return a.dir < b.dir }
            if a.change != b.change { return a.change.rawValue < b.change.rawValue }
            return (a.fileClass?.rawValue ?? "") < (b.fileClass?.rawValue ?? "")
        }
    }

    /// Folds `f`'s entries (sorted, merged) under the caps; keeps them sorted. Plain entries
    /// (`StateFold`) folded away are never made into items.
    static func apply(_ f: inout StateFold) {
        if f.entries.count <= perDirectory && !overCaps(f) { return }
        fold(&f, codeToo: false, threshold: perDirectory) { f, e in f.parent(e) }
        // Still over: fold everything but code by directory, deepest level first; then code.
        // A group of one is left as it is: a summary of one path saves no item, and would stand
        // for every later path of its change and class below its directory (`SummaryIndex`).
        for codeToo in [false, true] {
            var d = maxDepth(f)
            while d >= 0 && overCaps(f) {
                let level = d
                fold(&f, codeToo: codeToo, threshold: 1) { f, e in f.ancestor(e, depth: level) }
                d -= 1
            }
        }
    }

    static func overCaps(_ items: [DriftState.Item]) -> Bool {
        items.count > maxItems || items.reduce(0) { $0 + $1.path.utf8.count } > pathBytes
    }

    private static func maxDepth(_ f: StateFold) -> Int {
        f.entries.reduce(nil) { (m: Int?, e) in max(m ?? 0, f.depth(e)) } ?? 0
    }

    static func overCaps(_ f: StateFold) -> Bool {
        f.entries.count > maxItems || f.entries.reduce(0) { $0 + f.pathLength($1) } > pathBytes
    }

    /// Groups entries by (`dir(entry)`, change, class); a group of more than `threshold` becomes
    /// one summary item for the directory, counting what it folds.
    private static func fold(_ f: inout StateFold, codeToo: Bool, threshold: Int,
                             dir: (inout StateFold, Int) -> String?) {
        var groups: [Key: [Int]] = [:]
        // Sorted entries come a directory at a time: a run of one key is one dictionary update,
        // not one a path (a watcher's batch folds a million entries; the members' order is kept).
        var run: (key: Key, members: [Int])?
        for k in f.entries.indices {
            let e = f.entries[k]
            let fileClass = f.fileClass(e)
            guard codeToo || fileClass != .code, let d = dir(&f, e) else { continue }
            let key = Key(dir: d, change: f.change(e), fileClass: fileClass)
            if run?.key == key {
                run?.members.append(k)
                continue
            }
            if let r = run { groups[r.key, default: []].append(contentsOf: r.members) }
            run = (key, [k])
        }
        if let r = run { groups[r.key, default: []].append(contentsOf: r.members) }
        var drop = [Bool](repeating: false, count: f.entries.count)
        var made: [(key: Key, item: DriftState.Item)] = []
        for (key, members) in groups where members.count > threshold {
            let leadEntry = f.entries[members[0]]
            var firstText = f.firstSeen(leadEntry)
            var first = Timestamp.parse(firstText) ?? .distantFuture
            var total = 0
            for k in members {
                let e = f.entries[k]
                drop[k] = true
                total += f.count(e) ?? 1
                // Folded paths mostly share one sighting: its text is parsed once.
                let seen = f.firstSeen(e)
                if seen != firstText, let t = Timestamp.parse(seen), t < first {
                    first = t
                    firstText = seen
                }
            }
            var summary = DriftState.Item(path: key.dir, firstSeen: firstText, change: key.change,
                                          fileClass: key.fileClass, count: total)
            // An export (or a restarted clock) the folded paths share is kept; any
            // disagreement keeps none, so a summary never claims more was exported than was.
            let lead = f.export(leadEntry)
            if members.allSatisfy({ f.export(f.entries[$0]) == lead }) { summary.takeExport(lead) }
            summary.clockStarted = members.compactMap { f.clockStarted(f.entries[$0]) }.max()
            made.append((key, summary))
        }
        if made.isEmpty { return }
        // Not the dictionary's order: two summaries of one directory keep one order (`Key.less`).
        made.sort { Key.less($0.key, $1.key) }
        var out = made.map { f.add($0.item) }
        out += f.entries.indices.filter { !drop[$0] }.map { f.entries[$0] }
        f.entries = out
        f.sortByPath()
    }

    /// Items in path byte order, each path unescaped once (not once per comparison).
    static func sortedByPath(_ items: [DriftState.Item]) -> [DriftState.Item] {
        let keyed = items.map { (PathBytes.unescape($0.path.utf8) ?? [], $0) }
        return keyed.sorted { PathBytes.less($0.0, $1.0) }.map(\.1)
    }

    /// The directory holding an escaped path, with its trailing `/` ("" for the root).
    /// Escaped paths are printable ASCII (`PathBytes.escape`): bytes, not Characters, are walked.
    static func parent(_ path: String) -> String? {
        let u = path.utf8
        guard let slash = u.dropLast().lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return String(path[...slash])
    }

    /// The ancestor directory of `path` at `depth` components (with its `/`; "" at 0); nil
    /// when the path is that directory or no deeper.
    static func ancestor(_ path: String, depth: Int) -> String? {
        if depth == 0 { return path.isEmpty ? nil : "" }
        var seen = 0
        let u = path.utf8
        for i in u.indices where u[i] == UInt8(ascii: "/") {
            seen += 1
            if seen == depth {
                let a = String(path[...i])
                return a == path ? nil : a
            }
        }
        return nil
    }

    /// Directory components above a path's last one.
    static func depth(_ path: String) -> Int {
        path.utf8.dropLast().reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) }
    }
}
