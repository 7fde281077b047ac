import Testing
@testable import DriftCore

/// The watcher's "when to record" rule for a flood of data (incident 12, F15/F3), without a
/// watcher or a clock: times are given.
@Suite("FloodPacing and the held data of PendingChanges")
struct FloodPacingTests {
    static let rule = PendingChanges.PipRule(settle: 1, cap: 600, busy: false)

    @Test("a flood is held until quiet or the interval; a few data events are not")
    func pacing() {
        var p = FloodPacing()
        for i in 0..<(FloodPacing.floodEvents - 1) { p.noteData(at: Double(i) * 0.001) }
        #expect(!p.holding(at: 0.3), "below the flood threshold nothing is held")
        p.noteData(at: 0.3)
        #expect(p.holding(at: 0.3))
        #expect(p.heldUntil(0.3) == 0.3 + FloodPacing.quiet)
        #expect(!p.holding(at: 0.3 + FloodPacing.quiet), "quiet: released")
        // A new burst at 3 s (after a quiet gap), events every second: released once per interval.
        var released: [Double] = []
        var t = 3.0
        while t <= 63 {
            p.noteData(at: t)
            for _ in 0..<FloodPacing.floodEvents { p.noteData(at: t) }
            if !p.holding(at: t) {
                released.append(t)
                p.released(at: t)
            }
            t += 1
        }
        #expect(released == [33, 63], "\(released)")
    }

    @Test("held data stays pending while code, and a data directory a code file showed up in, are taken")
    func heldKeys() {
        var q = PendingChanges()
        q.touch(tree: Array("packages/models/m".utf8), at: 0, data: true)
        q.touch(path: Array("packages/models/m/w1.bin".utf8), at: 0, complete: true, data: true)
        q.touch(path: Array("packages/models/x.bin".utf8), at: 0, complete: true, data: true)
        q.touch(path: Array("worker/util.py".utf8), at: 0, complete: true)
        #expect(q.dataCount == 2)
        var (scope, _) = q.takeReady(now: 5, settle: 0.2, maxWait: 2, pipRule: Self.rule, holdData: true)
        #expect(scope.paths == [Array("worker/util.py".utf8)] && scope.trees.isEmpty)
        #expect(q.count == 2 && q.dataCount == 2)
        // A code-class file below the held directory: the directory is no longer held.
        q.touch(path: Array("packages/models/m/run.py".utf8), at: 5, complete: true, data: false)
        #expect(q.dataCount == 1)
        (scope, _) = q.takeReady(now: 10, settle: 0.2, maxWait: 2, pipRule: Self.rule, holdData: true)
        #expect(scope.trees == [Array("packages/models/m".utf8)] && scope.paths.isEmpty)
        #expect(q.nextDeadline(settle: 0.2, maxWait: 2, pipRule: Self.rule, heldUntil: 40) == 40)
        // A query or a stop takes everything, held or not.
        (scope, _) = q.takeReady(now: 10, settle: 0.2, maxWait: 2, pipRule: Self.rule, all: true, holdData: true)
        #expect(scope.paths == [Array("packages/models/x.bin".utf8)] && q.isEmpty && q.dataCount == 0)
    }
}
