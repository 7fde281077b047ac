import DriftGit
import DriftSystem
import DriftTestSupport
import Testing
@testable import DriftCore

/// The one-pass secret search (incident 11, F2: `NeedleSet` behind `SecretIndex.matchesValues`
/// and `OutgoingSecrets.holds(text:)`) against the value-by-value search it replaced, copied
/// here as the oracle. A text the old search flags and the new one does not is a secret leaving
/// in a journal, a patch or a bundle: the two must answer alike on every input, for values of
/// every length drift keeps (and the ones it drops), binary values, values that share the
/// matcher's keyed prefix or are prefixes and suffixes of each other, in every encoding the
/// index adds, at the ends of the text and across the matcher's word-load boundary.
@Suite struct SecretSearchDifferentialTests {
    /// The search before 28b3445, verbatim in behaviour.
    enum Old {
        static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
            if needle.isEmpty || hay.count < needle.count { return false }
            var i = 0
            while i <= hay.count - needle.count {
                if hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
                i += 1
            }
            return false
        }

        static func matchesValues(_ index: SecretIndex, _ bytes: [UInt8]) -> Bool {
            if index.isEmpty { return false }
            guard let d = try? SHA256Hasher.digest(bytes) else { return true }
            if index.digests.contains(d) { return true }
            return index.values.contains { contains(bytes, $0) }
        }

        static func needles(_ index: SecretIndex) throws -> [[UInt8]] {
            var needles = index.values
            for v in index.values {
                needles.append(Array(try SHA256Hasher.digest(v).hex.utf8))
                needles.append(Array(try SHA256Hasher.digest(v + [0x0A]).hex.utf8))
            }
            return needles
        }
    }

    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        mutating func bytes(_ count: Int, from alphabet: [UInt8]) -> [UInt8] {
            (0..<count).map { _ in alphabet[next(alphabet.count)] }
        }
    }

    static let allBytes = (0...255).map { UInt8($0) }
    static let token = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=.-".utf8)
    static let small = Array("abcd".utf8)
    static let encoded = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_\0\"\\".utf8)

    /// An index as a scan builds it, from secret-named variables holding `values`.
    static func index(_ values: [[UInt8]], dir: TempDir) throws -> SecretIndex {
        let vars = values.enumerated().map { i, v in
            SecretEnvironment.Variable(name: Array("APP_\(i)_TOKEN".utf8), value: v, origin: .drift)
        }
        let manifest = Manifest(commit: "0", root: Array(dir.path.utf8), policySHA256: try SHA256Hasher.digest([]),
                                entries: [])
        return try SecretIndex(walk: TreeWalk(entries: [], issues: [], unreadableDirectories: []), manifest: manifest,
                               changes: [], reader: FileReader(root: Array(dir.path.utf8)),
                               environment: SecretEnvironment(variables: vars))
    }

    /// Random values: every length 1...200, binary and small alphabets, and values made from
    /// others (prefix, suffix, same first 8 bytes, a repeated unit).
    static func values(_ r: inout Random, count: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for _ in 0..<count {
            let alphabet = [allBytes, token, small, encoded][r.next(4)]
            let length = r.next(4) == 0 ? 8 + r.next(6) : 1 + r.next(200)
            var v = r.bytes(length, from: alphabet)
            if let base = out.isEmpty ? nil : out[r.next(out.count)], base.count > 9 {
                switch r.next(5) {
                case 0: v = Array(base.prefix(8 + r.next(base.count - 8)))
                case 1: v = Array(base.suffix(8 + r.next(base.count - 8)))
                case 2: v = Array(base.prefix(8)) + v
                case 3: v = Array(repeating: Array(base.prefix(2 + r.next(4))), count: 3 + r.next(20)).flatMap { $0 }
                default: break
                }
            }
            out.append(v)
        }
        return out
    }

    /// The value in context as the index's encodings must see it: base64 (either alphabet) of
    /// the value between 0-2 random bytes and more, hex, UTF-16, a C string literal.
    static func carried(_ v: [UInt8], _ r: inout Random) -> [UInt8] {
        let framed = r.bytes(r.next(3), from: allBytes) + v + r.bytes(r.next(4), from: allBytes)
        switch r.next(7) {
        case 0: return SecretEncodings.base64(framed + [0, 0])
        case 1: return SecretEncodings.base64(framed + [0, 0]).map { $0 == 0x2B ? 0x2D : $0 == 0x2F ? 0x5F : $0 }
        case 2: return hex(framed, digits: "0123456789abcdef")
        case 3: return hex(framed, digits: "0123456789ABCDEF")
        case 4: return framed.flatMap { [$0, 0] }
        case 5: return SecretEncodings.escaped(v).first ?? v
        default: return v
        }
    }

    static func hex(_ bytes: [UInt8], digits: String) -> [UInt8] {
        let d = Array(digits.utf8)
        return bytes.flatMap { [d[Int($0 >> 4)], d[Int($0 & 0x0F)]] }
    }

    /// Texts around needles: at offset 0, at the end, cut one byte short at the end, twice
    /// overlapping, and ending within 12 bytes of the end (the word-load boundary).
    static func texts(_ needles: [[UInt8]], _ values: [[UInt8]], _ r: inout Random) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for _ in 0..<30 {
            let alphabet = [allBytes, token, small, encoded][r.next(4)]
            var t = r.bytes(r.next(300), from: alphabet)
            if !needles.isEmpty {
                let n = needles[r.next(needles.count)]
                switch r.next(7) {
                case 0: t = n + t
                case 1: t += n
                case 2: t += n.dropLast()
                case 3: t = Array(n.dropFirst()) + t
                case 4: t += n + n.dropFirst(r.next(max(1, n.count)))
                case 5: t = Array(t.prefix(r.next(12))) + n + r.bytes(r.next(12), from: alphabet)
                default: t.insert(contentsOf: n, at: r.next(t.count + 1))
                }
            }
            if !values.isEmpty, r.next(3) == 0 {
                t += carried(values[r.next(values.count)], &r)
            }
            out.append(t)
        }
        return out
    }

    @Test("matchesValues and OutgoingSecrets.holds(text:) answer as the value-by-value search")
    func sameAsOldSearch() throws {
        let dir = try TempDir("needle-diff")
        defer { dir.remove() }
        var r = Random(state: 0xF2)
        var flagged = 0
        var checked = 0
        for _ in 0..<30 {
            let values = Self.values(&r, count: 1 + r.next(12))
            let index = try Self.index(values, dir: dir)
            let outgoing = try OutgoingSecrets(index)
            let oldNeedles = try Old.needles(index)
            for t in Self.texts(oldNeedles, values, &r) {
                let old = Old.matchesValues(index, t)
                #expect(index.matchesValues(t) == old, "values \(values) text \(t)")
                let oldText = oldNeedles.contains { Old.contains(t, $0) }
                #expect(outgoing.holds(text: t) == oldText, "values \(values) text \(t)")
                if oldText { flagged += 1 }
                checked += 1
            }
        }
        #expect(flagged > checked / 4, "the texts plant needles")
    }

    @Test("a value carried in an encoding the index adds is found by both, wherever it sits")
    func encodingsFound() throws {
        let dir = try TempDir("needle-enc")
        defer { dir.remove() }
        var r = Random(state: 7)
        for _ in 0..<200 {
            let v = r.bytes(12 + r.next(60), from: r.next(2) == 0 ? Self.token : Self.allBytes)
            let index = try Self.index([v], dir: dir)
            guard index.valueCount == 1 else { continue }
            let pre = r.bytes(r.next(20), from: Self.token)
            let t = pre + Self.carried(v, &r) + r.bytes(r.next(20), from: Self.token)
            let old = Old.matchesValues(index, t)
            #expect(index.matchesValues(t) == old, "value \(v) text \(t)")
            #expect(old || v.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 >= 0x80 || $0 == 0x22 || $0 == 0x27
                || $0 == 0x5C || $0 == 0x24 || $0 == 0x60 }), "value \(v) in \(t) not found at all")
        }
    }

    @Test("needles of every length 1...200 ending at each of the text's last offsets")
    func everyLengthAtTheEnd() {
        var r = Random(state: 3)
        for length in 1...200 {
            let needles = [r.bytes(length, from: Self.small), r.bytes(length + r.next(9), from: Self.small)]
            for tail in 0...9 {
                for lead in [0, 1, 9] {
                    let n = needles[r.next(2)]
                    let t = r.bytes(lead, from: Self.token) + n + r.bytes(tail, from: Self.token)
                    let cut = Array(t.dropLast(tail + 1))
                    #expect(NeedleSet(needles).isFound(in: t), "needle \(n) text \(t)")
                    #expect(NeedleSet(needles).isFound(in: cut) == needles.contains { Old.contains(cut, $0) },
                            "needles \(needles) text \(cut)")
                }
            }
        }
    }

    @Test("10,000 values: the filter full, short and long values, one planted in a text")
    func tenThousandValues() throws {
        let dir = try TempDir("needle-10k")
        defer { dir.remove() }
        var r = Random(state: 10_000)
        let values = (0..<10_000).map { i in
            r.bytes(i % 100 == 0 ? 12 + r.next(100) : 8 + r.next(4), from: Self.token)
        }
        let index = try Self.index(values, dir: dir)
        #expect(index.valueCount > 9_900)
        for k in 0..<4 {
            var t = r.bytes(400, from: Self.token)
            if k % 2 == 0 {
                t.insert(contentsOf: values[r.next(values.count)], at: r.next(t.count + 1))
            }
            let old = index.values.contains { Old.contains(t, $0) }
            #expect(index.valueSearch.isFound(in: t) == old, "text \(t)")
            if k % 2 == 0 { #expect(old) }
        }
    }

    /// `OutgoingSecrets.holds(object:)` before 28b3445: no verdict cache, values searched by
    /// `matches` as well as among the needles.
    static func oldHolds(_ index: SecretIndex, _ needles: [[UInt8]], _ type: GitObjectType, _ bytes: [UInt8],
                         _ scope: SecretScope) -> Bool {
        needles.contains { Old.contains(bytes, $0) }
            || (type == .blob && (SecretFormats.find(bytes, scope: scope) != nil || Old.matchesValues(index, bytes)))
    }

    @Test("an object's cached verdict is its scope's and its index's: asked in any order, as the uncached search")
    func verdictsByScopeAndIndex() throws {
        let dir = try TempDir("needle-odb")
        defer { dir.remove() }
        let repo = try GitRepository(initBare: Array(dir.sub("j.git").utf8))
        let odb = try repo.odb()
        let value = Array("Qm7vT2kx9LpZ4nW8rB3yH6cF1dJ5sA0e".utf8)
        // A generic assignment: a secret in code, not in a test fixture; and the value of
        // the second index, in the blob and in a tree's text (a path name).
        let assignment = Array("api_token = \"Zr8Kp2Lm7Qx4Vn9Bt3Hc6Jw1Fd5Sg0Ay\"\n".utf8)
        let carried = Array("K = \"".utf8) + SecretEncodings.of(value)[1] + [0x22, 0x0A]
        let objects = [(GitObjectType.blob, assignment), (.blob, carried), (.blob, value),
                       (.commit, Array("tree 0\n\nmessage ".utf8) + value), (.blob, Array("x = 1\n".utf8))]
        let ids = try objects.map { try odb.write($0.0, $0.1) }
        let indices = [try Self.index([], dir: dir), try Self.index([value], dir: dir),
                       try Self.index([Array("anotherValue9876".utf8)], dir: dir)]
        #expect(SecretFormats.find(assignment, scope: .code) != nil)
        #expect(SecretFormats.find(assignment, scope: .testFixture) == nil)
        var r = Random(state: 5)
        for index in indices {
            let needles = try Old.needles(index)
            for _ in 0..<6 {
                // One OutgoingSecrets asked about every object in both scopes, in a random order.
                let outgoing = try OutgoingSecrets(index)
                var asks = ids.indices.flatMap { i in [(i, SecretScope.code), (i, .testFixture)] }
                for k in asks.indices.reversed() { asks.swapAt(k, r.next(k + 1)) }
                for (i, scope) in asks + asks {
                    let old = Self.oldHolds(index, needles, objects[i].0, objects[i].1, scope)
                    #expect(try outgoing.holds(object: ids[i], in: odb, scope: scope) == old,
                            "object \(i) scope \(scope) values \(index.valueCount)")
                }
                let fixtures = Set(ids.filter { _ in r.next(2) == 0 })
                let oldAny = ids.indices.contains { i in
                    Self.oldHolds(index, needles, objects[i].0, objects[i].1,
                                  fixtures.contains(ids[i]) ? .testFixture : .code)
                }
                #expect(try outgoing.anyHolds(ids, repo: repo, fixtures: fixtures) == oldAny)
            }
        }
    }

    /// Found by the attack on F2 (not a regression: the search before it missed them too): a
    /// value holding a byte a URL must escape left whole in a query string or a form body,
    /// percent-encoded (`urllib.parse.quote`, `quote_plus`, `encodeURIComponent`, `encodeURI`).
    @Test("a value percent-encoded in a URL or a form body is the value")
    func percentEncoded() throws {
        let dir = try TempDir("needle-url")
        defer { dir.remove() }
        let value = Array("Ab3+Cd5/Ef7=Gh9&Ij1 Kl~(x)".utf8)
        let index = try Self.index([value], dir: dir)
        for spelled in ["Ab3%2BCd5%2FEf7%3DGh9%26Ij1%20Kl~%28x%29", "Ab3%2BCd5/Ef7%3DGh9%26Ij1%20Kl~%28x%29",
                        "Ab3%2BCd5%2FEf7%3DGh9%26Ij1+Kl~%28x%29", "Ab3%2BCd5%2FEf7%3DGh9%26Ij1%20Kl~(x)",
                        "Ab3%2bCd5%2fEf7%3dGh9%26Ij1%20Kl~%28x%29", "Ab3+Cd5/Ef7=Gh9&Ij1%20Kl~(x)"] {
            let text = Array("GET https://api.example/v1?key=\(spelled)&n=1\n".utf8)
            #expect(index.matchesValues(text), "\(spelled)")
            #expect(try OutgoingSecrets(index).holds(text: text), "\(spelled)")
        }
        // A value with nothing to escape adds no needle.
        #expect(SecretEncodings.percent(Array("Ab3-Cd5_Ef7.Gh9~Ij1Kl".utf8)).isEmpty)
    }
}
