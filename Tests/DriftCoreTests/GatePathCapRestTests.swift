import Testing
@testable import DriftCore

/// `GatePathCap.rest` answers at once when half or more of the hidden paths are quoted (no
/// group of them can be named): the same answer as grouping them all, as it did before issue 28
/// round 13 (`restBefore`, kept here as it was), on random path lists.
@Suite struct GatePathCapRestTests {
    /// `GatePathCap.rest` as it was (main 704234f).
    static func restBefore(_ paths: [String]) -> GatePathCap.Rest? {
        guard paths.count > GatePathCap.perEntry else { return nil }
        let hidden = paths[GatePathCap.perEntry...]
        if let all = GatePathCap.commonDirectory(hidden) {
            return GatePathCap.Rest(count: hidden.count, under: all, share: nil)
        }
        var groups: [String: [String]] = [:]
        for p in hidden {
            let key = p.split(separator: "/").dropLast().prefix(2).joined(separator: "/")
            groups[key, default: []].append(p)
        }
        guard let top = groups.max(by: { $0.value.count < $1.value.count }), top.value.count * 2 > hidden.count,
              let under = GatePathCap.commonDirectory(top.value) else {
            return GatePathCap.Rest(count: hidden.count, under: nil, share: nil)
        }
        return GatePathCap.Rest(count: hidden.count, under: under, share: top.value.count)
    }

    @Test("random lists, quoted and plain: the same count, directory and share as grouping them all")
    func sameRest() {
        var state: UInt64 = 1
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        let pool = ["models/m/w", "models/m/x/y", "src/a", "a/b/c/d", "x", "\"pkg/\\351t/m\\n", "\"a\\377/x",
                    "\"\u{301}q/r", "models/n/z"]
        var named = 0
        for _ in 0..<2000 {
            let paths = (0..<(GatePathCap.perEntry + next(40))).map { i in pool[next(pool.count)] + "\(i % 7)" }
            let new = GatePathCap.rest(paths)
            let old = Self.restBefore(paths)
            #expect(new?.count == old?.count && new?.under == old?.under && new?.share == old?.share, "\(paths)")
            if old?.under != nil { named += 1 }
        }
        #expect(named > 50)
    }
}
