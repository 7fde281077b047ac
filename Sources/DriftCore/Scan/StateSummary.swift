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

    /// The summary covering `key` (an escaped path) seen first, if any.
    static func covering(_ key: String, in summaries: [String: DriftState.Item]) -> DriftState.Item? {
        if summaries.isEmpty { return nil }
        var best: DriftState.Item?
        func consider(_ s: DriftState.Item?) {
            guard let s else { return }
            if let b = best, (Timestamp.parse(b.firstSeen) ?? .distantFuture)
                <= (Timestamp.parse(s.firstSeen) ?? .distantFuture) { return }
            best = s
        }
        // An escaped key is printable ASCII: its bytes are walked, not its Characters.
        let u = key.utf8
        var end = u.endIndex
        while let slash = u[..<end].lastIndex(of: UInt8(ascii: "/")) {
            end = slash
            consider(summaries[String(key[...slash])])
        }
        consider(summaries[""])
        return best
    }

    /// Folds `items` (sorted, merged) under the caps; keeps them sorted.
    static func apply(_ items: inout [DriftState.Item]) {
        if items.count <= perDirectory && !overCaps(items) { return }
        items = fold(items, codeToo: false, threshold: perDirectory) { parent($0) }
        // Still over: fold everything but code by directory, deepest level first; then code.
        for codeToo in [false, true] {
            var d = items.lazy.map { depth($0.path) }.max() ?? 0
            while d >= 0 && overCaps(items) {
                let level = d
                items = fold(items, codeToo: codeToo, threshold: 0) { ancestor($0, depth: level) }
                d -= 1
            }
        }
    }

    static func overCaps(_ items: [DriftState.Item]) -> Bool {
        items.count > maxItems || items.reduce(0) { $0 + $1.path.utf8.count } > pathBytes
    }

    /// Groups items by (`dir(path)`, change, class); a group of more than `threshold` becomes
    /// one summary item for the directory, counting what it folds.
    private static func fold(_ items: [DriftState.Item], codeToo: Bool, threshold: Int,
                             dir: (String) -> String?) -> [DriftState.Item] {
        struct Key: Hashable {
            var dir: String
            var change: ChangeKind
            var fileClass: FileClass?
        }
        var groups: [Key: [Int]] = [:]
        for (k, i) in items.enumerated() where codeToo || i.fileClass != .code {
            guard let d = dir(i.path) else { continue }
            groups[Key(dir: d, change: i.change, fileClass: i.fileClass), default: []].append(k)
        }
        var drop = [Bool](repeating: false, count: items.count)
        var out: [DriftState.Item] = []
        for (key, members) in groups where members.count > threshold {
            var firstText = items[members[0]].firstSeen
            var first = Timestamp.parse(firstText) ?? .distantFuture
            var total = 0
            for k in members {
                drop[k] = true
                total += items[k].count ?? 1
                // Folded paths mostly share one sighting: its text is parsed once.
                if items[k].firstSeen != firstText, let t = Timestamp.parse(items[k].firstSeen), t < first {
                    first = t
                    firstText = items[k].firstSeen
                }
            }
            var summary = DriftState.Item(path: key.dir, firstSeen: firstText, change: key.change,
                                          fileClass: key.fileClass, count: total)
            // An export (or a restarted clock) the folded paths share is kept; any
            // disagreement keeps none, so a summary never claims more was exported than was.
            let lead = items[members[0]]
            if members.allSatisfy({ items[$0].exportId == lead.exportId && items[$0].pushedAt == lead.pushedAt
                                    && items[$0].exportedAt == lead.exportedAt
                                    && items[$0].exportIdAt == lead.exportIdAt
                                    && items[$0].exportWithheld == lead.exportWithheld }) {
                summary.exportWithheld = lead.exportWithheld
                summary.exportedAt = lead.exportedAt
                summary.exportId = lead.exportId
                summary.exportIdAt = lead.exportIdAt
                summary.pushedAt = lead.pushedAt
            }
            summary.clockStarted = members.compactMap { items[$0].clockStarted }.max()
            out.append(summary)
        }
        if out.isEmpty { return items }
        out += items.indices.filter { !drop[$0] }.map { items[$0] }
        return sortedByPath(out)
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
