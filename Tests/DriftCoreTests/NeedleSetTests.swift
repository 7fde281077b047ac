import Testing
@testable import DriftCore

/// The one-pass search of many secret values (incident 11, F2) answers as the value-by-value
/// search it replaced, on random needles and haystacks over a small alphabet (so needles share
/// prefixes, overlap and sit at the ends).
@Suite struct NeedleSetTests {
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        mutating func bytes(_ count: Int, alphabet: Int) -> [UInt8] {
            (0..<count).map { _ in UInt8(0x61 + next(alphabet)) }
        }
    }

    @Test func sameAnswerAsNaiveSearch() {
        var r = Random(state: 11)
        var found = 0
        for round in 0..<3000 {
            let alphabet = 2 + r.next(4)
            let needles = (0..<r.next(12)).map { _ in r.bytes(r.next(14), alphabet: alphabet) }
            var hay = r.bytes(r.next(80), alphabet: alphabet)
            // Plant a needle now and then, also at the very end.
            if round % 3 == 0, !needles.isEmpty {
                hay += needles[r.next(needles.count)]
            }
            let naive = needles.contains { SecretIndex.contains(hay, $0) }
            #expect(NeedleSet(needles).isFound(in: hay) == naive, "needles \(needles) hay \(hay)")
            if naive { found += 1 }
        }
        #expect(found > 300)
    }

    @Test func emptyNeedlesAndShortHay() {
        #expect(!NeedleSet([]).isFound(in: Array("anything".utf8)))
        #expect(!NeedleSet([[]]).isFound(in: Array("anything".utf8)))
        #expect(!NeedleSet([Array("longneedle".utf8)]).isFound(in: Array("long".utf8)))
        #expect(NeedleSet([Array("ab".utf8), Array("longneedle".utf8)]).isFound(in: Array("xab".utf8)))
        #expect(NeedleSet([Array("0123456789abcdef".utf8)]).isFound(in: Array("..0123456789abcdef".utf8)))
    }
}
