import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// Random values for the round-trip properties: seeded, a fixed number of cases, so a
/// failure reproduces exactly from the case number in its message.
struct RoundTripGen {
    var rng: Fuzz.RNG

    /// Bytes chosen to hit every branch of the quoting and escaping rules: plain ASCII, the
    /// characters formats treat specially, control bytes, valid UTF-8 (C1 included) and stray
    /// bytes >= 0x80.
    static let pieces: [[UInt8]] = [
        Array("a".utf8), Array("Z".utf8), Array("9".utf8), Array("_".utf8), Array(".".utf8), Array("/".utf8),
        Array("-".utf8), Array(" ".utf8), Array("%".utf8), Array("\"".utf8), Array("\\".utf8), Array(",".utf8),
        Array(":".utf8), [0x0A], [0x09], [0x0D], [0x1B], [0x07], [0x7F], [0x00], [0x01],
        Array("é".utf8), Array("日本".utf8), Array("🙂".utf8), [0xC2, 0x9B], [0xC2, 0x85],
        [0xFF], [0x80], [0xC3], [0xE2, 0x82], [0xF5, 0x80, 0x80, 0x80], [0xED, 0xA0, 0x80],
    ]

    static let hexDigits = Array("0123456789abcdef")

    mutating func below(_ n: Int) -> Int { rng.below(n) }

    mutating func bytes(maxPieces: Int = 12, allowNUL: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<below(maxPieces + 1) {
            let p = Self.pieces[below(Self.pieces.count)]
            if !allowNUL && p == [0x00] { continue }
            out += p
        }
        return out
    }

    mutating func nonEmptyPath() -> [UInt8] {
        let p = bytes(allowNUL: false)
        return p.isEmpty ? Array("x".utf8) : p
    }

    mutating func digest() -> Digest { Digest(bytes: (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }

    mutating func hex(_ n: Int) -> String {
        String((0..<n).map { _ in Self.hexDigits[below(16)] })
    }

    /// Unique paths in byte order.
    mutating func paths(_ n: Int) -> [[UInt8]] {
        var seen = Set<[UInt8]>()
        for _ in 0..<n { seen.insert(nonEmptyPath()) }
        return seen.sorted { PathBytes.less($0, $1) }
    }

    mutating func manifest() -> Manifest {
        let entries = paths(below(12)).map { p -> ManifestEntry in
            let link = below(4) == 0
            let size = Int64(rng.next() % 1_000_000_000_000_000_000)
            return ManifestEntry(path: p, kind: link ? .symlink : .regular, executable: !link && below(2) == 0,
                                 size: size, digest: digest(), target: link ? bytes(allowNUL: false) : nil)
        }
        let pins = (0..<below(3)).map { i in (name: "pin\(i).json", sha256: digest()) }
        return Manifest(commit: hex(below(2) == 0 ? 40 : 64), root: Array("/".utf8) + bytes(allowNUL: false),
                        policySHA256: digest(), pins: pins, entries: entries)
    }

    mutating func statCache() -> StatCache {
        var c = StatCache()
        for p in paths(below(10)) {
            let e = StatCache.Entry(size: Int64(bitPattern: rng.next()), mtimeNs: Int64(bitPattern: rng.next()),
                                    ctimeNs: Int64(bitPattern: rng.next()), inode: rng.next(), device: rng.next(),
                                    digest: digest())
            c.entries.append(StatCache.Record(path: p, entry: e))
        }
        return c
    }

    mutating func date() -> Date {
        // 1970 … 9999, whole seconds (the format's precision).
        Date(timeIntervalSince1970: Double(rng.next() % 253_402_300_799))
    }
}

/// Manifests compared field by field (pins are tuples, so `Manifest` is not `Equatable`).
func sameManifest(_ a: Manifest, _ b: Manifest) -> Bool {
    a.commit == b.commit && a.root == b.root && a.policySHA256 == b.policySHA256 && Array(a.entries) == Array(b.entries)
        && a.pins.map(\.name) == b.pins.map(\.name) && a.pins.map(\.sha256) == b.pins.map(\.sha256)
}

extension FuzzTests {
    /// Random manifests: Manifest → text → Manifest is the identity and the text is a fixed
    /// point; mutated texts (checksum repaired, so the parser reads every line) that parse
    /// serialise to a canonical text that parses to the same manifest.
    @Test("round trip: manifest text ↔ Manifest")
    func manifestRoundTrip() throws {
        var gen = RoundTripGen(rng: Fuzz.RNG(state: 0x3A1F))
        var texts: [[UInt8]] = []
        for i in 0..<200 {
            let m = gen.manifest()
            let text = try m.serialized()
            let back = try Manifest.parse(text, file: "m")
            #expect(sameManifest(back, m), "case \(i)")
            #expect(try back.serialized() == text, "case \(i)")
            #expect(Manifest.peekRoot(text) == m.root && Manifest.peekPolicySHA256(text) == m.policySHA256)
            texts.append(text)
        }
        var accepted = 0
        for i in 0..<1000 {
            let mutant = Self.withTrailer(Fuzz.mutate(texts[gen.below(texts.count)], &gen.rng), marker: "sha256 ")
            guard let parsed = try? Manifest.parse(mutant, file: "m") else { continue }
            accepted += 1
            let canonical = try parsed.serialized()
            let again = try Manifest.parse(canonical, file: "m")
            #expect(sameManifest(again, parsed), "mutant \(i)")
            #expect(try again.serialized() == canonical, "mutant \(i)")
        }
        #expect(accepted > 50, "only \(accepted) mutants parsed: the property barely ran")
    }

    /// `body` (cut at its last `marker` line) with a valid `sha256 <hex>` trailer line.
    static func withTrailer(_ bytes: [UInt8], marker: String) -> [UInt8] {
        var body = bytes
        let cut = Array(("\n" + marker).utf8)
        // Backwards by hand: the generic collection search is slow in debug builds.
        var i = body.count - cut.count
        while i >= 0 && !body[i..<(i + cut.count)].elementsEqual(cut) { i -= 1 }
        if i >= 0 { body = Array(body[...i]) }
        if body.last != 0x0A { body.append(0x0A) }
        let sum = (try? SHA256Hasher.digest(body).hex) ?? ""
        return body + Array("sha256 \(sum)\n".utf8)
    }

    /// Random caches: serialise → parse is the identity; a mutated cache with its checksum
    /// repaired is either refused or read back to exactly the same bytes (fixed-width format).
    @Test("round trip: stat cache bytes ↔ StatCache")
    func statCacheRoundTrip() throws {
        var gen = RoundTripGen(rng: Fuzz.RNG(state: 0x5CAC))
        var blobs: [[UInt8]] = []
        for i in 0..<400 {
            let c = gen.statCache()
            let bytes = try c.serialized()
            let back = try #require(StatCache.parse(bytes), "case \(i)")
            #expect(back.entries == c.entries, "case \(i)")
            #expect(try back.serialized() == bytes, "case \(i)")
            #expect(StatCache.parse(bytes.dropLast().map { $0 } + [bytes.last.map { $0 ^ 1 } ?? 0]) == nil)
            blobs.append(bytes)
        }
        var accepted = 0
        for i in 0..<1500 {
            var m = Fuzz.mutate(blobs[gen.below(blobs.count)], &gen.rng)
            guard m.count >= 32 else { continue }
            m = Array(m.dropLast(32))
            m += try SHA256Hasher.digest(m).bytes
            guard let parsed = StatCache.parse(m) else { continue }
            accepted += 1
            #expect(try parsed.serialized() == m, "mutant \(i)")
        }
        #expect(accepted > 0)
    }

    // Snapshot entries and pip changes: SnapshotRecordTests.roundTrip (the record and the
    // message format, 300 random snapshots) and pipCommaName (what only the record can carry).

    /// Byte paths: git quoting ↔ unquoting and percent escaping ↔ unescaping, over every byte
    /// value; a name is shown as is exactly when it is plain UTF-8.
    @Test("round trip: byte paths (display ↔ unquoteC, escape ↔ unescape)")
    func bytePathRoundTrip() throws {
        var gen = RoundTripGen(rng: Fuzz.RNG(state: 0xB17E))
        var inputs: [[UInt8]] = (0...255).map { [UInt8($0)] } + [[]]
        for _ in 0..<2000 { inputs.append(gen.bytes(maxPieces: 16)) }
        for _ in 0..<500 { inputs.append((0..<gen.below(24)).map { _ in UInt8(truncatingIfNeeded: gen.rng.next()) }) }
        for (i, p) in inputs.enumerated() {
            let shown = PathBytes.display(p)
            let shownBytes = Array(shown.utf8)
            #expect(PathBytes.unquoteC(shownBytes) == p, "case \(i): \(p)")
            #expect(!shownBytes.contains { $0 < 0x20 || $0 == 0x7F }, "case \(i): raw control byte in \(shown)")
            #expect(!PathBytes.isSuspicious(shownBytes), "case \(i): C1 control left in \(shown)")
            let plain = String(validating: p, as: UTF8.self) != nil && !PathBytes.isSuspicious(p)
                && !p.contains(0x22) && !p.contains(0x5C)
            #expect((shownBytes == p) == plain, "case \(i): quoted iff needed")
            let escaped = PathBytes.escape(p)
            #expect(escaped.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "case \(i)")
            #expect(PathBytes.unescape(escaped.utf8) == p, "case \(i)")
        }
        // Malformed quoted names are refused, never misread.
        for bad in ["\"a\\\"", "\"\\q\"", "\"\\4000\"", "\"a\"b\"", "\"\\12\""] {
            #expect(PathBytes.unquoteC(Array(bad.utf8)) == nil, "\(bad)")
        }
        for bad in ["%", "%4", "%GG", "a b", "a\nb"] { #expect(PathBytes.unescape(Array(bad.utf8)) == nil, "\(bad)") }
    }

    /// The other small text forms drift writes and reads back: timestamps and digests.
    @Test("round trip: RFC 3339 timestamps and SHA-256 hex")
    func timestampAndDigestRoundTrip() throws {
        var gen = RoundTripGen(rng: Fuzz.RNG(state: 0x7173))
        for i in 0..<3000 {
            let d = gen.date()
            let s = Timestamp.format(d)
            #expect(Timestamp.parse(s) == d, "case \(i): \(s)")
            let g = gen.digest()
            #expect(Digest(hex: g.hex) == g && Digest(hex: g.hex.uppercased()) == g, "case \(i)")
        }
    }
}
