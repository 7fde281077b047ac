import DriftSystem

/// How a remembered value can be found again without being kept: for each string the value
/// is searched as while it is known (itself, its encodings, its halves, its hash in hex:
/// `ValueTraces.needles`), the length, a 32-bit rolling hash keyed by the salt, and the salted
/// SHA-256. A rolling hash of every window of that length finds candidates in one pass over
/// the bytes; the salted digest confirms them. The 32 bits say less of the value than its
/// salted digest, which the same file holds already.
struct ValueTrace: Codable, Equatable, Hashable, Sendable {
    var length: Int
    var roll: UInt32
    /// `SHA-256(salt || needle)`.
    var digest: Digest
}

enum ValueTraces {
    /// What a live value is searched as (`SecretIndex`, `OutgoingSecrets`).
    /// - Throws: `DriftError` when no SHA-256 context can be made.
    static func needles(_ v: [UInt8]) throws -> [[UInt8]] {
        var all = [v] + SecretEncodings.of(v) + SecretEncodings.windows(v) + SecretEncodings.escaped(v)
            + SecretEncodings.percent(v)
        all.append(Array(try SHA256Hasher.digest(v).hex.utf8))
        all.append(Array(try SHA256Hasher.digest(v + [0x0A]).hex.utf8))
        var seen = Set<[UInt8]>()
        return all.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The traces of value `v` under `salt`.
    /// - Throws: `DriftError` when no SHA-256 context can be made.
    static func of(_ v: [UInt8], salt: [UInt8]) throws -> [ValueTrace] {
        let base = Self.base(salt)
        return try needles(v).map { n in
            ValueTrace(length: n.count, roll: Self.top(Self.roll(n, base: base)),
                       digest: try ForgottenValues.digest(n, salt: salt))
        }
    }

    /// The rolling hash's multiplier: odd, from the salt (so the 32 bits are keyed).
    static func base(_ salt: [UInt8]) -> UInt64 {
        var b: UInt64 = 0x9E37_79B9_7F4A_7C15
        for (i, x) in salt.prefix(8).enumerated() { b ^= UInt64(x) << UInt64(8 * i) }
        return b | 1
    }

    static func roll(_ bytes: [UInt8], base: UInt64) -> UInt64 {
        var h: UInt64 = 0
        for b in bytes { h = h &* base &+ UInt64(b) }
        return h
    }

    /// The high half: the low bits of a product modulo 2^64 mix poorly.
    static func top(_ h: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: h >> 32) }
}

/// The values `drift forget --release` let go of (`ForgottenValues.released`), searched for in
/// content that would leave the box: releasing a name stops withholding everything for it, but
/// content that still holds its old value stays withheld (incident 12, F12: a rotated token
/// pasted into code was exported once its name was released). Linear in the bytes: one pass per
/// distinct needle length, a set lookup per window, a SHA-256 only for a 32-bit hit.
struct ReleasedSearch: Sendable, Equatable {
    private var salt: [UInt8] = []
    private var base: UInt64 = 1
    /// Needle length → rolling hash → the salted digests of the needles with both.
    private var traces: [Int: [UInt32: Set<Digest>]] = [:]
    /// Released values an older drift remembered without traces: matched as whole tokens only.
    private var untraced = Set<Digest>()

    init() {}

    init(_ memory: ForgottenValues?) {
        guard let memory, let released = memory.released, !released.isEmpty else { return }
        salt = memory.saltBytes
        // Under a damaged salt nothing matches; the digests stay (failing closed is not possible
        // without the value: `drift status` lists the released names).
        base = ValueTraces.base(salt)
        for e in released {
            guard let ts = e.traces else {
                untraced.insert(e.digest)
                continue
            }
            for t in ts { traces[t.length, default: [:]][t.roll, default: []].insert(t.digest) }
        }
    }

    var isEmpty: Bool { traces.isEmpty && untraced.isEmpty }

    /// Whether `hay` holds a released value (or an encoding of one). A hash that cannot be
    /// computed proves nothing: the bytes count as holding one.
    func isFound(in hay: [UInt8]) -> Bool {
        if isEmpty { return false }
        do {
            for (length, table) in traces where try found(length, table, in: hay) { return true }
            return try !untraced.isEmpty && foundToken(in: hay)
        } catch {
            return true
        }
    }

    private func found(_ length: Int, _ table: [UInt32: Set<Digest>], in hay: [UInt8]) throws -> Bool {
        if hay.count < length || length == 0 { return false }
        var outgoing: UInt64 = 1
        for _ in 0..<length { outgoing = outgoing &* base }
        let b = base
        // A 64 Ki-bit filter of the rolling hashes' top 16 bits: a dictionary lookup a byte
        // cost ~25 ns, the filter one load and one bit test.
        var filter = [UInt64](repeating: 0, count: 1 << 10)
        for r in table.keys {
            let slot = Int(r >> 16)
            filter[slot >> 6] |= UInt64(1) << UInt64(slot & 63)
        }
        var hits: [(start: Int, roll: UInt32)] = []
        hay.withUnsafeBufferPointer { h in
            filter.withUnsafeBufferPointer { f in
                var x: UInt64 = 0
                for i in 0..<h.count {
                    x = x &* b &+ UInt64(h[i])
                    if i >= length { x = x &- UInt64(h[i - length]) &* outgoing }
                    guard i + 1 >= length else { continue }
                    let r = ValueTraces.top(x)
                    let slot = Int(r >> 16)
                    if f[slot >> 6] & (UInt64(1) << UInt64(slot & 63)) != 0, table[r] != nil {
                        hits.append((i + 1 - length, r))
                    }
                }
            }
        }
        for hit in hits {
            let d = try ForgottenValues.digest(Array(hay[hit.start..<(hit.start + length)]), salt: salt)
            if table[hit.roll]?.contains(d) == true { return true }
        }
        return false
    }

    /// Whole runs of bytes that can make up a token (no blank, quote or bracket), at least
    /// `SecretValueFilter.minimumBytes` long, compared by salted digest.
    private func foundToken(in hay: [UInt8]) throws -> Bool {
        let stops: Set<UInt8> = Set(" \t\r\n\"'`()[]{}<>,;\\".utf8)
        var start = 0
        for i in 0...hay.count where i == hay.count || stops.contains(hay[i]) || hay[i] < 0x20 {
            if i - start >= SecretValueFilter.minimumBytes {
                if untraced.contains(try ForgottenValues.digest(Array(hay[start..<i]), salt: salt)) { return true }
            }
            start = i + 1
        }
        return false
    }
}
