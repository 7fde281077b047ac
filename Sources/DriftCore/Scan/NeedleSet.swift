import DriftSystem

/// Many byte strings (secret values and their encodings) searched for in one pass over the
/// bytes: each needle is filed under its first `keyLength` bytes (at most 8, packed in a word),
/// a 64 Ki-bit filter of those keys rejects almost every offset with one load and one bit test,
/// and only an offset whose key is filed is compared with its needles. Searching needle by needle
/// cost O(bytes × needles): 2.7 CPU-s for a 9-file export against 196 values (incident 11, F2).
/// The answer is the naive search's (`NeedleSetTests` compares them on random inputs).
struct NeedleSet: Sendable {
    /// The needles, none empty (an empty needle is found nowhere, as in `SecretIndex.contains`).
    private let needles: [[UInt8]]
    /// How many leading bytes key a needle: the shortest needle's length, at most 8.
    private let keyLength: Int
    private let keyMask: UInt64
    /// Bit `filterSlot(key)` is set for every filed key.
    private let filter: [UInt64]
    /// Key → the needles (indices) that begin with it.
    private let table: [UInt64: [Int]]

    init(_ all: [[UInt8]]) {
        let kept = all.filter { !$0.isEmpty }
        needles = kept
        let k = min(8, kept.map(\.count).min() ?? 8)
        keyLength = k
        keyMask = k == 8 ? UInt64.max : (UInt64(1) << UInt64(k * 8)) - 1
        var filter = [UInt64](repeating: 0, count: 1 << 10)
        var table: [UInt64: [Int]] = [:]
        for (i, n) in kept.enumerated() {
            let key = n.withUnsafeBytes { Self.key($0.baseAddress.unsafelyUnwrapped, count: k) }
            table[key, default: []].append(i)
            let slot = Self.filterSlot(key)
            filter[slot >> 6] |= UInt64(1) << UInt64(slot & 63)
        }
        self.filter = filter
        self.table = table
    }

    /// Whether no needle can be found anywhere.
    var isEmpty: Bool { needles.isEmpty }

    /// Whether any needle occurs in `hay`.
    func isFound(in hay: [UInt8]) -> Bool {
        if needles.isEmpty || hay.count < keyLength { return false }
        return hay.withUnsafeBytes { h in
            guard let base = h.baseAddress else { return false }
            let last = h.count - keyLength
            // Offsets whose 8-byte word lies inside the bytes are keyed by one load; the last
            // few by bytes.
            let wordEnd = h.count >= 8 ? h.count - 8 : -1
            var i = 0
            while i <= last {
                let key = i <= wordEnd
                    ? base.loadUnaligned(fromByteOffset: i, as: UInt64.self).littleEndian & keyMask
                    : Self.key(base + i, count: keyLength)
                let slot = Self.filterSlot(key)
                if filter[slot >> 6] & (UInt64(1) << UInt64(slot & 63)) != 0, found(key, at: i, in: base, h.count) {
                    return true
                }
                i += 1
            }
            return false
        }
    }

    private func found(_ key: UInt64, at i: Int, in base: UnsafeRawPointer, _ count: Int) -> Bool {
        guard let filed = table[key] else { return false }
        for n in filed {
            let needle = needles[n]
            if i + needle.count > count { continue }
            let same = needle.withUnsafeBytes { nb in
                compareMemory(base + i, nb.baseAddress.unsafelyUnwrapped, needle.count) == 0
            }
            if same { return true }
        }
        return false
    }

    /// The first `count` (≤ 8) bytes as a little-endian word.
    private static func key(_ p: UnsafeRawPointer, count: Int) -> UInt64 {
        var k: UInt64 = 0
        for j in 0..<count {
            k |= UInt64(p.load(fromByteOffset: j, as: UInt8.self)) << UInt64(j * 8)
        }
        return k
    }

    /// A 16-bit slot of the filter (Fibonacci hashing: the top bits of the product).
    private static func filterSlot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 48)
    }
}
