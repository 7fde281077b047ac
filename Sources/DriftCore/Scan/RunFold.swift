import DriftSystem

/// `StateSummary.apply(_:runs:)`'s working set: the runs not folded yet and the summaries made,
/// each a `FoldRun` (a summary is a run of one item that stands for `total` paths). Every step of
/// the entry-by-entry fold is taken here per run: a group is a union of whole runs (its members
/// share the run's directory, change and class), and what it makes of them (count, earliest
/// sighting, agreed export, latest clock) does not depend on their order.
struct RunFold {
    struct Piece {
        var run: FoldRun
        /// A summary's entry in `StateFold.entries`; nil for a run of entries.
        var summary: Int?
        /// The fold that made the summary (1, 2, …) and its place among that fold's summaries.
        var pass = 0
        var place = 0
        /// How many entries the piece is (`members.count` in the fold).
        var entries: Int
        var alive = true
    }

    private(set) var pieces: [Piece]
    /// Entries and their escaped paths' length, as they are now.
    private var count: Int
    private var bytes: Int
    private var pass = 0
    private var made = false

    init(_ runs: [FoldRun]) {
        pieces = runs.map { Piece(run: $0, entries: $0.range.count) }
        count = runs.reduce(0) { $0 + $1.range.count }
        bytes = runs.reduce(0) { $0 + $1.pathBytes }
    }

    var overCaps: Bool { count > StateSummary.maxItems || bytes > StateSummary.pathBytes }

    var maxDepth: Int { pieces.reduce(nil) { (m: Int?, p) in p.alive ? max(m ?? 0, p.run.depth) : m } ?? 0 }

    /// `StateSummary.ancestor` of every member of `r`: a prefix of their directory.
    static func ancestor(_ r: FoldRun, depth: Int) -> String? {
        if depth == 0 { return r.root ? nil : "" }
        var seen = 0
        let u = r.dir.utf8
        for i in u.indices where u[i] == UInt8(ascii: "/") {
            seen += 1
            if seen == depth { return String(r.dir[...i]) }
        }
        return nil
    }

    /// One fold: groups pieces by (`dir(run)`, change, class); a group of more than `threshold`
    /// entries becomes one summary item.
    mutating func fold(_ f: inout StateFold, codeToo: Bool, threshold: Int, dir: (FoldRun) -> String?) {
        pass += 1
        var groups: [StateSummary.Key: [Int]] = [:]
        for i in pieces.indices where pieces[i].alive {
            let r = pieces[i].run
            guard codeToo || r.fileClass != .code, let d = dir(r) else { continue }
            groups[StateSummary.Key(dir: d, change: r.change, fileClass: r.fileClass), default: []].append(i)
        }
        var out: [(key: StateSummary.Key, piece: Piece, item: DriftState.Item)] = []
        for (key, members) in groups {
            guard members.reduce(0, { $0 + pieces[$1].entries }) > threshold else { continue }
            var s = pieces[members[0]].run
            for m in members.dropFirst() {
                let r = pieces[m].run
                s.total += r.total
                if r.seen < s.seen {
                    s.seen = r.seen
                    s.seenText = r.seenText
                }
                if !r.agreed || r.export != s.export { s.agreed = false }
                if let c = r.clock, s.clock.map({ c > $0 }) ?? true { s.clock = c }
            }
            for m in members {
                pieces[m].alive = false
                count -= pieces[m].entries
                bytes -= pieces[m].run.pathBytes
            }
            var item = DriftState.Item(path: key.dir, firstSeen: s.seenText, change: key.change,
                                       fileClass: key.fileClass, count: s.total)
            let export = s.agreed ? s.export : StateFold.Export()
            item.takeExport(export)
            item.clockStarted = s.clock
            let run = FoldRun(range: 0..<0, dir: StateSummary.parent(key.dir) ?? "", change: key.change,
                              fileClass: key.fileClass, root: key.dir.isEmpty, total: s.total,
                              pathBytes: key.dir.utf8.count, seen: s.seen, seenText: s.seenText, export: export,
                              agreed: true, clock: s.clock)
            out.append((key, Piece(run: run, pass: pass, entries: 1), item))
        }
        out.sort { StateSummary.Key.less($0.key, $1.key) }
        for (place, o) in out.enumerated() {
            var p = o.piece
            p.summary = f.add(o.item)
            p.place = place
            pieces.append(p)
            count += 1
            bytes += p.run.pathBytes
            made = true
        }
    }

    /// Sets `f.entries` to what is left and the summaries, in the order the entry-by-entry fold
    /// leaves them: by path; a later fold's summaries before an earlier's of the same path (each
    /// fold puts its own first, then sorts stably), entries last.
    func order(_ f: inout StateFold) {
        guard made else { return }
        var keyed: [(path: [UInt8], rank: Int, place: Int, entry: Int)] = []
        for p in pieces where p.alive {
            if let e = p.summary {
                keyed.append((PathBytes.unescape(f.built[~e].path.utf8) ?? [], -p.pass, p.place, e))
                continue
            }
            for k in p.run.range {
                let e = f.entries[k]
                let path = e >= 0 ? f.changes[e].path : PathBytes.unescape(f.built[~e].path.utf8) ?? []
                keyed.append((path, 0, k, e))
            }
        }
        keyed.sort { a, b in
            if a.path != b.path { return PathBytes.less(a.path, b.path) }
            return a.rank != b.rank ? a.rank < b.rank : a.place < b.place
        }
        f.entries = keyed.map(\.entry)
    }
}
