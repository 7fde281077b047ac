import Testing
@testable import DriftCore
@testable import DriftSystem

/// `DutyLookup` asks the summaries once a run of one directory, change and class (issue 28 round
/// 13: a watch batch's report asked them once a path, a million times) and gives every path the
/// duty a lookup a path gives: random states (own items, summaries with and without exports,
/// non-UTF-8 and escaped names) and random drifted lists.
@Suite struct DutyLookupTests {
    typealias SplitMix = StateFoldTests.SplitMix

    /// The lookup a path, as it was.
    static func reference(_ items: [DriftState.Item], _ c: FileChange, stop: DeadlineStop) -> ExportDuty? {
        let key = PathBytes.escape(c.path)
        if let i = items.first(where: { $0.count == nil && $0.path == key }) { return i.duty(stop: stop) }
        return SummaryIndex(items).covering(key, change: c.change, fileClass: c.fileClass)?.duty(stop: stop)
    }

    @Test("a lookup a run gives what a lookup a path gives", arguments: 0..<12)
    func runLookupEqualsPathLookup(seed: UInt64) throws {
        var rng = SplitMix(state: seed)
        let paths = StateFoldTests.paths(300, &rng)
        let items = StateFoldTests.loaded(paths, &rng)
        // The drifted list: the loaded paths and more, runs of one change and class.
        var changes: [FileChange] = []
        var run: (ChangeKind, FileClass)?
        for p in paths {
            var c = try StateFoldTests.change(p, &rng)
            if let r = run, Int.random(in: 0..<4, using: &rng) > 0 {
                c.change = r.0
                c.fileClass = r.1
            }
            run = (c.change, c.fileClass)
            changes.append(c)
        }
        for stop in [DeadlineStop.export, .push] {
            let lookup = DutyLookup(items, stop: stop)
            for c in changes {
                #expect(lookup.duty(c) == Self.reference(items, c, stop: stop), "\(PathBytes.escape(c.path))")
            }
        }
    }
}

extension DutyLookupTests {
    @Test("a report from the duties of runs writes what a report asking a path at a time writes",
          arguments: 0..<8)
    func reportFromRuns(seed: UInt64) throws {
        var rng = SplitMix(state: seed)
        let paths = StateFoldTests.paths(400, &rng)
        let items = StateFoldTests.loaded(paths, &rng)
        let changes = try paths.map { try StateFoldTests.change($0, &rng) }
        let now = StateFoldTests.now
        for deadline in [nil, Deadline.duration(3_600), Deadline.duration(86_400 * 3)] {
            for stop in [DeadlineStop.export, .push] {
                // The summary's counts as the report counted them, a row at a time.
                var exported = 0
                var reconciled = 0
                var overdue = 0
                for c in changes {
                    let duty = Self.reference(items, c, stop: stop)
                    if duty?.handled == true { exported += 1 }
                    if duty?.reconciledIn != nil { reconciled += 1 }
                    let late = deadline.map { d in
                        duty.map { $0.overdue(d, now: now) } ?? (d.due(after: c.firstSeen) <= now)
                    }
                    if late == true { overdue += 1 }
                }
                let counted = ScanReport(commit: "c", root: [0x2F], host: "h", scannedAt: now, changes: changes,
                                         pip: [], issues: [], checked: 1, hashed: 1, deadline: deadline, now: now,
                                         duties: DutyLookup(items, stop: stop)).summary
                #expect(counted.exported == exported && counted.reconciled == reconciled && counted.overdue == overdue)
                #expect(deadline == nil || overdue > 0)
                func report(_ runs: Bool, lazy: Bool) throws -> [UInt8] {
                    let r = runs
                        ? ScanReport(commit: "c", root: [0x2F], host: "h", scannedAt: now, changes: changes, pip: [],
                                     issues: [], checked: 1, hashed: 1, deadline: deadline, now: now,
                                     duties: DutyLookup(items, stop: stop), lazyRows: lazy)
                        : ScanReport(commit: "c", root: [0x2F], host: "h", scannedAt: now, changes: changes, pip: [],
                                     issues: [], checked: 1, hashed: 1, deadline: deadline, now: now,
                                     duty: { Self.reference(items, $0, stop: stop) }, lazyRows: lazy)
                    var out: [UInt8] = []
                    try ReportJSON.write(r) { out += $0 }
                    return out
                }
                let want = try report(false, lazy: false)
                #expect(try report(true, lazy: false) == want)
                #expect(try report(true, lazy: true) == want)
                #expect(want.count > 1_000)
            }
        }
    }
}
