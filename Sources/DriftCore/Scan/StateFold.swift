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
    struct Export: Equatable {
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
