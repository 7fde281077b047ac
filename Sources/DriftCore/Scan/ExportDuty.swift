import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What stops a drifted path's deadline clock (the policy's `deadline_stop`).
enum DeadlineStop: String, Sendable {
    /// `drift export` wrote the path's current version out.
    case export
    /// And `drift push` sent that export to the fleet's remote.
    case push
}

/// The instance's duty for one drifted path (docs/operations.md, "Deadlines"): the deadline
/// measures how long drift stayed unexported. Exporting (or pushing, with `deadline_stop:
/// push`) stops the path's clock; a later change to the path restarts it at the scan that
/// saw the change.
public struct ExportDuty: Sendable, Equatable {
    /// When the clock started: the first sighting, or the change after an export.
    var clockStarted: Date
    /// Whether `clock_started` differs from `first_seen` (shown only then).
    var restarted: Bool
    var exportedAt: String?
    var exportId: String?
    /// When the export `exportId` names was made (`exportedAt` unless a later export renamed it).
    var exportIdAt: String?
    var pushedAt: String?
    /// The upstream commit carrying the export's id (`scan --upstream`): waiting for redeploy.
    var reconciledIn: String?
    /// The export did not carry the path's content: no upstream commit reconciles it.
    var exportWithheld: Bool
    /// The clock is stopped: nothing left for the instance to do for this path.
    var handled: Bool

    /// What a path holds now, in one hash: change kind, content digest, mode and link
    /// target. Kept in `state.json` (0600, like `journal_fingerprint`, which hashes the same).
    static func fingerprint(_ c: FileChange) throws -> Digest {
        var s = Array("export-duty/1 \(c.change.rawValue) ".utf8)
        s += Array((c.new?.digest?.hex ?? "-").utf8) + [0x20]
        s += Array((c.new?.gitMode?.octal ?? "-").utf8) + [0x20]
        s += c.new?.target ?? []
        return try SHA256Hasher.digest(s)
    }

    /// Whether the deadline has passed for this path at `now`.
    func overdue(_ deadline: Deadline, now: Date) -> Bool {
        !handled && deadline.due(after: clockStarted) <= now
    }
}

extension DriftState.Item {
    /// Keeps `prior`'s export while the path holds what was exported; once it holds
    /// something else the export no longer covers it and the clock restarts at `now`.
    mutating func carryDuty(from prior: DriftState.Item, restartingAt now: Date) {
        clockStarted = prior.clockStarted
        guard prior.exportedAt != nil else { return }
        if let f = prior.exportedFingerprint, f == fingerprint {
            exportedAt = prior.exportedAt
            exportId = prior.exportId
            exportIdAt = prior.exportIdAt
            exportedFingerprint = prior.exportedFingerprint
            pushedAt = prior.pushedAt
            reconciledIn = prior.reconciledIn
            exportWithheld = prior.exportWithheld
        } else {
            clockStarted = Timestamp.format(now)
        }
    }

    /// This item's duty under `stop`; nil when its first sighting cannot be read.
    func duty(stop: DeadlineStop) -> ExportDuty? {
        guard let first = Timestamp.parse(firstSeen) else { return nil }
        let started = clockStarted.flatMap(Timestamp.parse) ?? first
        let handled = stop == .push ? pushedAt != nil : exportedAt != nil
        return ExportDuty(clockStarted: started, restarted: clockStarted != nil, exportedAt: exportedAt,
                          exportId: exportId, exportIdAt: exportIdAt ?? exportedAt, pushedAt: pushedAt,
                          reconciledIn: reconciledIn,
                          exportWithheld: exportWithheld == true, handled: handled)
    }
}

/// A path an export carried, with the change and class it was exported as.
struct ExportedPath {
    var path: [UInt8]
    var change: ChangeKind
    var fileClass: FileClass
}

extension DriftState {
    /// The duty of a drifted path: its own item's, or (a path folded into a summary item,
    /// `StateSummary`) the duty of the summary that stands for it (`SummaryIndex`). Asked per
    /// path while the report is built, so no dictionary of every drifted path is held; a
    /// summary's duty is worked out once.
    func dutyLookup(stop: DeadlineStop) -> DutyLookup { DutyLookup(items, stop: stop) }

    /// An export of drift `id` carried `paths`: each drifted item among them whose current
    /// version no export covers yet is exported now, as `id` (one already covered keeps its
    /// earlier export: its clock stopped then; one whose content an earlier export withheld
    /// names `id` from now on, the entry the gate lists it under). `withheld`: those of
    /// `paths` whose content the export did not carry.
    mutating func markExported(_ paths: [ExportedPath], withheld: Set<[UInt8]> = [], id: String, at now: Date) {
        let notCarried = Set(withheld.map { PathBytes.escape($0) })
        var exported = Set<String>()
        // A summary is exported with a path it stands for (`SummaryIndex`), or as itself (a
        // journal's summarised directory); a directory's other summaries are not.
        var exportedSummaries = Set<SummaryIndex.Key>()
        let own = Set(items.filter { $0.count == nil }.map(\.path))
        let summaries = SummaryIndex(items)
        for p in paths {
            let key = PathBytes.escape(p.path)
            exported.insert(key)
            // A summarised directory's entry names it with its `/`: no file's path ends in one.
            if key.isEmpty || key.utf8.last == UInt8(ascii: "/") {
                exportedSummaries.insert(SummaryIndex.Key(path: key, change: p.change, fileClass: p.fileClass))
            }
            guard !own.contains(key),
                  let s = summaries.covering(key, change: p.change, fileClass: p.fileClass) else { continue }
            exportedSummaries.insert(SummaryIndex.Key(s))
        }
        for k in items.indices {
            let i = items[k]
            guard i.count == nil ? exported.contains(i.path) : exportedSummaries.contains(SummaryIndex.Key(i)) else {
                continue
            }
            let covered = items[k].exportedAt != nil && items[k].exportedFingerprint == items[k].fingerprint
            if covered {
                // The gate lists withheld code under the latest export of a chain that carries
                // it (a superseded entry owes none): name that id, so a waiver for it is the one.
                if items[k].exportWithheld == true {
                    // `pushed_at` is the push of the export `export_id` names: a renamed one is not pushed yet.
                    if items[k].exportId != id { items[k].pushedAt = nil }
                    items[k].exportId = id
                    items[k].exportIdAt = Timestamp.format(now)
                    items[k].exportWithheld = notCarried.contains(items[k].path) ? true : nil
                }
                continue
            }
            items[k].exportedAt = Timestamp.format(now)
            items[k].exportId = id
            items[k].exportIdAt = nil
            items[k].exportedFingerprint = items[k].fingerprint
            items[k].pushedAt = nil
            items[k].reconciledIn = nil
            items[k].exportWithheld = notCarried.contains(items[k].path) ? true : nil
        }
    }

    /// What `scan --upstream` learnt: each exported item whose export id the upstream
    /// history carries names that commit; the others name none (any more), and neither does
    /// an item whose content that export withheld: the commit does not hold it.
    mutating func markReconciled(_ commits: [String: String]) {
        for k in items.indices {
            let carried = items[k].exportWithheld != true
            items[k].reconciledIn = carried ? items[k].exportId.flatMap { commits[$0] } : nil
        }
    }

    /// A push sent export `ids` (an export and the ones its chain carries): items exported
    /// as one of them are pushed now.
    mutating func markPushed(_ ids: [String], at now: Date) {
        let sent = Set(ids)
        for k in items.indices where items[k].pushedAt == nil {
            if let id = items[k].exportId, sent.contains(id) { items[k].pushedAt = Timestamp.format(now) }
        }
    }
}

/// `DriftState.dutyLookup`: each drifted path's duty from the state's items.
final class DutyLookup {
    private var own: [String: DriftState.Item] = [:]
    /// The raw directories (with their `/`) holding a path with an own item: paths of any other
    /// directory have none, so their key is not made to look one up.
    private var ownDirectories = Set<[UInt8]>()
    /// Whether some own item's path could not be unescaped (its directory unknown): every path
    /// is then looked up.
    private var ownUnplaced = false
    private let summaries: SummaryIndex
    /// A summary's duty (nil inside: its first sighting cannot be read).
    private var summaryDuty: [SummaryIndex.Key: ExportDuty?] = [:]
    private let stop: DeadlineStop

    init(_ items: [DriftState.Item], stop: DeadlineStop) {
        self.stop = stop
        summaries = SummaryIndex(items)
        for i in items where i.count == nil {
            own[i.path] = i
            if let raw = PathBytes.unescape(i.path.utf8) {
                ownDirectories.insert(Self.directory(raw[...]))
            } else {
                ownUnplaced = true
            }
        }
    }

    /// The bytes up to and with the last `/` (empty at the root).
    private static func directory(_ path: ArraySlice<UInt8>) -> [UInt8] {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else { return [] }
        return Array(path[...slash])
    }

    /// The duty of drifted path `c`; nil when no item stands for it. `duties(of:)` asks it once
    /// a run: paths of one directory, change and class have one covering summary
    /// (`SummaryIndex.stands` asks only which directories are above the path).
    func duty(_ c: FileChange) -> ExportDuty? {
        let key = PathBytes.escape(c.path)
        if let i = own[key] { return i.duty(stop: stop) }
        return summaryDutyOf(key, c)
    }

    /// Every change's duty as `Rows` keeps them: an index into a table (-1: none), equal
    /// neighbours sharing an entry; one lookup a run of one directory, change and class.
    func duties(of changes: [FileChange]) -> (index: [Int32], table: [ExportDuty]) {
        var index: [Int32] = []
        index.reserveCapacity(changes.count)
        var table: [ExportDuty] = []
        changes.withUnsafeBufferPointer { c in
            // The current run: its directory's length and the entry it shares (-2: none yet).
            var runStart = -1
            var runEnd = 0
            var runEntry: Int32 = -2
            for k in c.indices {
                let p = c[k].path
                let end = (p.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1
                if runEntry != -2, runStart >= 0, end == runEnd, c[runStart].change == c[k].change,
                   c[runStart].fileClass == c[k].fileClass, Self.samePrefix(p, c[runStart].path, end) {
                    index.append(runEntry)
                    continue
                }
                let d = duty(c[k])
                let entry: Int32
                if let d {
                    if table.last != d { table.append(d) }
                    entry = Int32(table.count - 1)
                } else {
                    entry = -1
                }
                index.append(entry)
                // A run is shared only where no path of the directory has an own item.
                let directory = Array(p[..<end])
                if !ownUnplaced && !ownDirectories.contains(directory) {
                    runStart = k
                    runEnd = end
                    runEntry = entry
                } else {
                    runEntry = -2
                }
            }
        }
        return (index, table)
    }

    /// Whether `a` and `b` start with the same `count` bytes (both hold at least that many).
    private static func samePrefix(_ a: [UInt8], _ b: [UInt8], _ count: Int) -> Bool {
        if count == 0 { return true }
        return a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                guard let xb = x.baseAddress, let yb = y.baseAddress else { return false }
                return compareMemory(xb, yb, count) == 0
            }
        }
    }

    private func summaryDutyOf(_ key: String, _ c: FileChange) -> ExportDuty? {
        guard let s = summaries.covering(key, change: c.change, fileClass: c.fileClass) else { return nil }
        let sk = SummaryIndex.Key(s)
        if let d = summaryDuty[sk] { return d }
        let d = s.duty(stop: stop)
        summaryDuty[sk] = .some(d)
        return d
    }
}
