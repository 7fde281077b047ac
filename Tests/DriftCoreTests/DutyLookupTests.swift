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
