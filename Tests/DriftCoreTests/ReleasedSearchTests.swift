import Testing
@testable import DriftCore
@testable import DriftSystem

/// A released value is searched by its traces (lengths, keyed rolling hashes, salted digests):
/// the answer is the live search's (`NeedleSet` over the same needles) on random values and
/// haystacks over a small alphabet, so windows collide, overlap and sit at the ends (incident 12, F12).
@Suite struct ReleasedSearchTests {
    static let salt = [UInt8](repeating: 7, count: 32)

    static func released(_ values: [[UInt8]]) throws -> ForgottenValues? {
        let m = try ForgottenValues.adding(nil, values.enumerated().map { (Array("V\($0.offset)".utf8), $0.element) },
                                           random: { Array(salt.prefix($0)) })
        return m?.releasing(Set(values.indices.map { "V\($0)" }))
    }

    @Test func sameAnswerAsLiveSearch() throws {
        var r = NeedleSetTests.Random(state: 12)
        var found = 0
        for round in 0..<400 {
            let alphabet = 2 + r.next(3)
            let values = (0..<(1 + r.next(2))).map { _ in r.bytes(8 + r.next(20), alphabet: alphabet) }
            var hay = r.bytes(r.next(120), alphabet: alphabet)
            if round % 2 == 0 {
                let needles = try ValueTraces.needles(values[r.next(values.count)])
                let at = hay.isEmpty ? 0 : r.next(hay.count)
                hay.insert(contentsOf: needles[r.next(needles.count)], at: at)
            }
            let live = NeedleSet(try values.flatMap(ValueTraces.needles))
            let search = ReleasedSearch(try Self.released(values))
            #expect(search.isFound(in: hay) == live.isFound(in: hay), "values \(values) hay \(hay)")
            if live.isFound(in: hay) { found += 1 }
        }
        #expect(found > 150)
    }

    @Test func releasedEntriesKeepTheirTracesAndSalt() throws {
        let value = Array("hf_inc12PidOneHFtokenAbCdEfGh123456".utf8)
        let m = try Self.released([value])
        #expect(m?.values == nil && m?.released?.count == 1 && m?.salt != nil)
        let search = ReleasedSearch(m)
        #expect(search.isFound(in: Array("x = 'pre\(String(decoding: value, as: UTF8.self))post'\n".utf8)))
        // Its halves are searched too (a key cut across two literals): a shorter piece is not.
        #expect(!search.isFound(in: Array("x = 'hf_inc12PidOneHF' + 'tok'\n".utf8)))
        // Nothing released, nothing searched.
        #expect(ReleasedSearch(nil).isEmpty)
    }

    @Test func olderEntriesGetTracesWhileKnownAndMatchWholeTokensOtherwise() throws {
        let value = Array("tok-older-drift-0123456789".utf8)
        var m = try ForgottenValues.adding(nil, [(Array("TOKEN".utf8), value)], random: { Array(Self.salt.prefix($0)) })
        m?.values?[0].traces = nil
        // Untraced and released: a whole token still matches; inside a longer one it cannot be found.
        let untraced = ReleasedSearch(m?.releasing(["TOKEN"]))
        #expect(untraced.isFound(in: Array("K = \"tok-older-drift-0123456789\"\n".utf8)))
        // A run that knows the value again adds the traces.
        let other = Array("another-known-value-0123".utf8)
        #expect(try ForgottenValues.tracing(m, known: [(Array("OTHER".utf8), other)]) == nil)
        let traced = try ForgottenValues.tracing(m, known: [(Array("OTHER".utf8), other), (Array("X".utf8), value)])
        // Traced, and nothing else remembered by being known.
        #expect(traced?.values?.count == 1 && traced?.values?[0].traces?.isEmpty == false)
        #expect(try ForgottenValues.tracing(traced, known: [(Array("OTHER".utf8), value)]) == nil)
        let search = ReleasedSearch(traced?.releasing(["TOKEN"]))
        #expect(search.isFound(in: Array("Kxtok-older-drift-0123456789y".utf8)))
    }
}
