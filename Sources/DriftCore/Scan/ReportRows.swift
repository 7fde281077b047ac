import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ScanReport {
    /// The report's rows, one a drifted path: built (a report whose `files` were set, or made
    /// `eager`), or made from the drifted list as each is read. A one-shot scan of a million
    /// paths writes its text and JSON a row at a time and never holds a million rows (issue 28
    /// round 11: ~200 bytes and a path string a row beside the drifted list).
    struct Rows: Sendable {
        private var built: [File]?
        private var changes: [FileChange] = []
        /// Each change's export duty: an index into `duties` (-1: none). Paths folded into one
        /// state summary share one duty.
        private var dutyIndex: [Int32] = []
        private var duties: [ExportDuty] = []
        private var deadline: Deadline?
        private var now = Date.distantPast

        init(_ files: [File]) { built = files }

        /// Rows of `changes`, asking `dutyOf` once a path.
        init(changes: [FileChange], deadline: Deadline?, now: Date, duty dutyOf: (FileChange) -> ExportDuty?) {
            self.changes = changes
            self.deadline = deadline
            self.now = now
            dutyIndex.reserveCapacity(changes.count)
            for c in changes {
                guard let d = dutyOf(c) else {
                    dutyIndex.append(-1)
                    continue
                }
                if duties.last != d { duties.append(d) }
                dutyIndex.append(Int32(duties.count - 1))
            }
        }

        /// Rows of `changes` with their duties made already (`DutyLookup.duties(of:)`).
        init(changes: [FileChange], deadline: Deadline?, now: Date, duties: (index: [Int32], table: [ExportDuty])) {
            self.changes = changes
            self.deadline = deadline
            self.now = now
            dutyIndex = duties.index
            self.duties = duties.table
        }

        /// How many rows of changes (not rows built already: a report read back) are exported
        /// (handled), reconciled and overdue: per duty once, per run of one first sighting once
        /// for rows without one (a million rows, a few thousand deadline computations).
        func tally() -> (exported: Int, reconciled: Int, overdue: Int) {
            guard built == nil else { return (0, 0, 0) }
            var exported = 0
            var reconciled = 0
            var overdue = 0
            let dutyOverdue = deadline.map { d in duties.map { $0.overdue(d, now: now) } } ?? []
            var lastSeen: (Date, Bool)?
            for k in dutyIndex.indices {
                let i = Int(dutyIndex[k])
                if i >= 0 {
                    if duties[i].handled { exported += 1 }
                    if duties[i].reconciledIn != nil { reconciled += 1 }
                    if !dutyOverdue.isEmpty && dutyOverdue[i] { overdue += 1 }
                    continue
                }
                guard let d = deadline else { continue }
                let seen = changes[k].firstSeen
                if let l = lastSeen, l.0 == seen {
                    if l.1 { overdue += 1 }
                    continue
                }
                let late = d.due(after: seen) <= now
                lastSeen = (seen, late)
                if late { overdue += 1 }
            }
            return (exported, reconciled, overdue)
        }

        var count: Int { built?.count ?? changes.count }
        var isEmpty: Bool { count == 0 }

        func duty(_ k: Int) -> ExportDuty? { dutyIndex[k] < 0 ? nil : duties[Int(dutyIndex[k])] }

        func fileClass(_ k: Int) -> FileClass { built?[k].fileClass ?? changes[k].fileClass }
        func change(_ k: Int) -> ChangeKind { built?[k].change ?? changes[k].change }
        /// Row `k`'s path bytes (without building the row).
        func path(_ k: Int) -> [UInt8] {
            guard let built else { return changes[k].path }
            if let b = built[k].pathBytes, let d = Data(base64Encoded: b) { return Array(d) }
            return Array(built[k].path.utf8)
        }

        /// Whether row `k` has the `suspicious-name` flag.
        func suspicious(_ k: Int) -> Bool {
            if let built { return built[k].flags?.contains("suspicious-name") == true }
            return PathBytes.isSuspicious(changes[k].path)
        }

        /// Row `k`'s `overdue` (without building the row).
        func overdue(_ k: Int) -> Bool? {
            if let built { return built[k].overdue }
            let c = changes[k]
            let duty = self.duty(k)
            return deadline.map { d in duty.map { $0.overdue(d, now: now) } ?? (d.due(after: c.firstSeen) <= now) }
        }

        /// Row `k`; `times` formats a run of equal first sightings once.
        func row(_ k: Int, times: inout TimestampRun) -> File {
            if let built { return built[k] }
            let c = changes[k]
            let (p, pb) = ScanReport.pathFields(c.path)
            func digestOf(_ s: EntryState?) -> Digest? { c.secret ? nil : s?.digest }  // secrets: name only
            // A secret's link target (or one carrying a secret value) is content: name only too.
            func target(_ s: EntryState?) -> String? { c.secret ? nil : s?.target.map { PathBytes.display($0) } }
            let duty = self.duty(k)
            let restarted = duty?.restarted == true ? duty.map { Timestamp.format($0.clockStarted) } : nil
            return File(path: p, pathBytes: pb, change: c.change, fileClass: c.fileClass,
                        firstSeen: times.format(c.firstSeen), secret: c.secret,
                        oldType: c.old?.kind, newType: c.new?.kind,
                        oldMode: c.old?.gitMode?.octal, newMode: c.new?.gitMode?.octal,
                        oldSize: c.old?.size, newSize: c.new?.size,
                        oldSHA256: digestOf(c.old), newSHA256: digestOf(c.new),
                        oldTarget: target(c.old), newTarget: target(c.new),
                        unstable: c.unstable ? true : nil,
                        overdue: overdue(k),
                        clockStarted: restarted,
                        exportedAt: duty?.exportedAt, exportId: duty?.exportId,
                        exportIdAt: duty?.exportIdAt == duty?.exportedAt ? nil : duty?.exportIdAt,
                        pushedAt: duty?.pushedAt,
                        reconciledIn: duty?.reconciledIn,
                        exportWithheld: duty?.exportWithheld == true && duty?.exportedAt != nil ? true : nil,
                        flags: ScanReport.flags(c))
        }

        /// Every row.
        var all: [File] {
            if let built { return built }
            var times = TimestampRun()
            var out: [File] = []
            out.reserveCapacity(changes.count)
            for k in changes.indices { out.append(row(k, times: &times)) }
            return out
        }

        /// The same rows, built now (the drifted list no longer held).
        var eager: Rows { Rows(all) }
    }
}
