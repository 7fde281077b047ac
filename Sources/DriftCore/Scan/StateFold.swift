import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The state items `StateSummary.apply` folds, most of them not built yet: a drifted path whose
/// item would carry nothing but its path, change, class, first sighting and fingerprint (no
/// export, clock or count: every path of a first scan) is its index into `changes`, made into an
/// item only if no summary folds it. A million drifted paths are a million integers during the
/// fold, not a million items and escaped keys (issue 28: ~330 bytes a path).
struct StateFold {
    /// `e >= 0`: the plain item of `changes[e]`; `e < 0`: `built[~e]`. Sorted by path.
    var entries: [Int] = []
    private(set) var built: [DriftState.Item] = []
    /// The merged changes (their first sightings final); empty when every entry is built.
    var changes: [FileChange] = []
    private var times = TimestampRun()
    /// The last plain entry's directory: sorted paths come a directory at a time.
    private var lastDir: (raw: ArraySlice<UInt8>, escaped: String)?

    init() {}

    init(items: [DriftState.Item]) {
        built = items
        entries = items.indices.map { ~$0 }
    }

    /// Adds a built item; returns its entry.
    @discardableResult
    mutating func add(_ item: DriftState.Item) -> Int {
        built.append(item)
        return ~(built.count - 1)
    }

    /// Whether `item`, made for a drifted path, is its plain item (`plainItem`).
    static func isPlain(_ item: DriftState.Item) -> Bool {
        item.count == nil && item.clockStarted == nil && item.exportedAt == nil && item.exportId == nil
            && item.exportIdAt == nil && item.exportedFingerprint == nil && item.pushedAt == nil
            && item.reconciledIn == nil && item.exportWithheld == nil
    }

    /// The item of plain entry `e`, as the merge made it.
    mutating func plainItem(_ e: Int) throws -> DriftState.Item {
        let c = changes[e]
        var item = DriftState.Item(path: PathBytes.escape(c.path), firstSeen: times.format(c.firstSeen),
                                   change: c.change, fileClass: c.fileClass)
        item.fingerprint = try ExportDuty.fingerprint(c)
        return item
    }

    func change(_ e: Int) -> ChangeKind { e >= 0 ? changes[e].change : built[~e].change }
    func fileClass(_ e: Int) -> FileClass? { e >= 0 ? changes[e].fileClass : built[~e].fileClass }
    func count(_ e: Int) -> Int? { e >= 0 ? nil : built[~e].count }
    func clockStarted(_ e: Int) -> String? { e >= 0 ? nil : built[~e].clockStarted }

    mutating func firstSeen(_ e: Int) -> String {
        e >= 0 ? times.format(changes[e].firstSeen) : built[~e].firstSeen
    }

    /// The export fields a summary keeps when all it folds agree on them (none on a plain entry).
    struct Export: Equatable, Sendable {
        var exportId: String?
        var pushedAt: String?
        var exportedAt: String?
        var exportIdAt: String?
        var exportWithheld: Bool?
    }

    func export(_ e: Int) -> Export {
        guard e < 0 else { return Export() }
        let i = built[~e]
        return Export(exportId: i.exportId, pushedAt: i.pushedAt, exportedAt: i.exportedAt,
                      exportIdAt: i.exportIdAt, exportWithheld: i.exportWithheld)
    }

    /// The length of the entry's escaped path (`PathBytes.escape`: three bytes for each byte
    /// it escapes).
    func pathLength(_ e: Int) -> Int {
        guard e >= 0 else { return built[~e].path.utf8.count }
        let p = changes[e].path
        return p.reduce(p.count) { $0 + ($1 > 0x20 && $1 < 0x7F && $1 != UInt8(ascii: "%") ? 0 : 2) }
    }

    /// `StateSummary.depth` of the entry's escaped path: `escape` keeps every `/` as it is.
    func depth(_ e: Int) -> Int {
        guard e >= 0 else { return StateSummary.depth(built[~e].path) }
        // A plain loop: the fold asks it of every entry, twice a batch in a watcher.
        let p = changes[e].path
        var n = 0
        var i = 0
        while i < p.count - 1 {
            if p[i] == UInt8(ascii: "/") { n += 1 }
            i += 1
        }
        return n
    }

    /// `StateSummary.parent` of the entry's escaped path.
    mutating func parent(_ e: Int) -> String? {
        guard e >= 0 else { return StateSummary.parent(built[~e].path) }
        let p = changes[e].path
        guard let slash = p.dropLast().lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return escapedDirectory(p[...slash])
    }

    /// `StateSummary.ancestor` of the entry's escaped path.
    mutating func ancestor(_ e: Int, depth: Int) -> String? {
        guard e >= 0 else { return StateSummary.ancestor(built[~e].path, depth: depth) }
        let p = changes[e].path
        if depth == 0 { return p.isEmpty ? nil : "" }
        var seen = 0
        for i in p.indices where p[i] == UInt8(ascii: "/") {
            seen += 1
            if seen == depth { return i == p.count - 1 ? nil : escapedDirectory(p[...i]) }
        }
        return nil
    }

    /// `PathBytes.escape` of a directory, the last one's text again when it is the same.
    private mutating func escapedDirectory(_ raw: ArraySlice<UInt8>) -> String {
        if let l = lastDir, l.raw.elementsEqual(raw) { return l.escaped }
        let escaped = PathBytes.escape(Array(raw))
        lastDir = (raw, escaped)
        return escaped
    }

    /// The runs of `entries[range]` (`FoldRun`): what `StateSummary.apply(_:runs:)` folds. Reads
    /// each entry's path once; a watcher's merge asks this only of the positions a batch touched.
    /// - Returns: nil past `limit` runs (a tree whose every other path is of another class).
    mutating func runs(in range: Range<Int>, limit: Int = .max) -> [FoldRun]? {
        var out: [FoldRun] = []
        for k in range {
            let e = entries[k]
            let dir = parent(e) ?? ""
            let root = e < 0 && built[~e].path.isEmpty
            let change = change(e)
            let fileClass = fileClass(e)
            let length = pathLength(e)
            if var last = out.last, last.range.upperBound == k, !root, !last.root, last.change == change,
               last.fileClass == fileClass, last.dir == dir {
                last.range = last.range.lowerBound..<(k + 1)
                last.total += count(e) ?? 1
                last.pathBytes += length
                if e < 0 {
                    last.take(built[~e])
                } else {
                    if last.export != Export() { last.agreed = false }
                    if changes[e].firstSeen < last.seen {
                        last.seen = changes[e].firstSeen
                        last.seenText = times.format(changes[e].firstSeen)
                    }
                }
                out[out.count - 1] = last
                continue
            }
            var run = FoldRun(range: k..<(k + 1), dir: dir, change: change, fileClass: fileClass, root: root,
                              total: count(e) ?? 1, pathBytes: length, seen: .distantFuture, seenText: "")
            if e < 0 {
                run.export = export(e)
                run.take(built[~e])
            } else {
                run.seen = changes[e].firstSeen
                run.seenText = times.format(changes[e].firstSeen)
            }
            out.append(run)
            if out.count > limit { return nil }
        }
        return out
    }

    /// Entries in path byte order (`StateSummary.sortedByPath`), each built path unescaped once.
    mutating func sortByPath() {
        let keyed = entries.map { e in (e >= 0 ? changes[e].path : PathBytes.unescape(built[~e].path.utf8) ?? [], e) }
        entries = keyed.sorted { PathBytes.less($0.0, $1.0) }.map(\.1)
    }

    /// The folded state's items, plain entries made now.
    mutating func items() throws -> [DriftState.Item] {
        var out: [DriftState.Item] = []
        out.reserveCapacity(entries.count)
        for e in entries {
            out.append(e >= 0 ? try plainItem(e) : built[~e])
        }
        return out
    }
}

/// Consecutive fold entries of one parent directory, change and class, and what the fold asks of
/// its members (issue 28 round 13): `StateSummary.apply(_:runs:)` folds whole runs, so a merge that
/// kept a batch's untouched runs (`DerivationMemo`) folds a million drifted paths in O(runs).
/// Every member's first sighting is its change's, formatted (`DriftState.merge`): the earliest
/// one's text is the one the entry-by-entry fold picks, whatever the members' order.
struct FoldRun: Sendable {
    /// Positions in `StateFold.entries`.
    var range: Range<Int>
    /// The members' parent directory (`StateSummary.parent`), escaped.
    var dir: String
    var change: ChangeKind
    var fileClass: FileClass?
    /// An item of the empty path (a summary of the root): no depth fold takes it.
    var root: Bool
    /// What the members count (`count ?? 1` each).
    var total: Int
    /// Their escaped paths' length.
    var pathBytes: Int
    /// The earliest first sighting and its text.
    var seen: Date
    var seenText: String
    /// The first member's export and whether every member has that one.
    var export = StateFold.Export()
    var agreed = true
    /// The latest restarted clock.
    var clock: String?

    /// `StateSummary.depth` of every member: the `/`s of their directory.
    var depth: Int { dir.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) } }

    /// Adds a built member's sighting, export and clock (its count and length are added apart).
    mutating func take(_ i: DriftState.Item) {
        let t = Timestamp.parse(i.firstSeen) ?? .distantFuture
        if t < seen || seenText.isEmpty {
            seen = t
            seenText = i.firstSeen
        }
        let x = StateFold.Export(exportId: i.exportId, pushedAt: i.pushedAt, exportedAt: i.exportedAt,
                                 exportIdAt: i.exportIdAt, exportWithheld: i.exportWithheld)
        if x != export { agreed = false }
        if let c = i.clockStarted, clock.map({ c > $0 }) ?? true { clock = c }
    }

    /// Whether `next` continues this run (adjacent, one key).
    func joins(_ next: FoldRun) -> Bool {
        range.upperBound == next.range.lowerBound && !root && !next.root && change == next.change
            && fileClass == next.fileClass && dir == next.dir
    }

    /// This run and `next` (which `joins` it) as one.
    mutating func absorb(_ next: FoldRun) {
        range = range.lowerBound..<next.range.upperBound
        total += next.total
        pathBytes += next.pathBytes
        if next.seen < seen {
            seen = next.seen
            seenText = next.seenText
        }
        if !next.agreed || next.export != export { agreed = false }
        if let c = next.clock, clock.map({ c > $0 }) ?? true { clock = c }
    }

    /// This run `offset` positions on.
    func shifted(_ offset: Int) -> FoldRun {
        var r = self
        r.range = (range.lowerBound + offset)..<(range.upperBound + offset)
        return r
    }
}

extension DriftState.Item {
    /// Takes the export fields a summary keeps from the paths it folds (`StateFold.Export`).
    mutating func takeExport(_ e: StateFold.Export) {
        exportWithheld = e.exportWithheld
        exportedAt = e.exportedAt
        exportId = e.exportId
        exportIdAt = e.exportIdAt
        pushedAt = e.pushedAt
    }
}
