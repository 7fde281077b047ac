/// A check of a sequence of members made from its pieces' checks, whatever the pieces: the
/// polynomial Σ h(j) · R^j mod 2^61 − 1 of the members' own checks `h(j)` (`MemberHasher`,
/// keyed per process), `R` drawn per process. Two pieces appended give the check of their
/// concatenation, so the fold's check of a million changes is made from the fingerprint's
/// chunks (a watch batch redoes the chunks around its hunks, issue 28), and equals the one
/// made member by member, however the list is chunked. Two different sequences of at most n
/// members share a check with a chance of about n / 2^61 (the process's `R` unknown outside it).
struct SequenceCheck: Equatable, Sendable {
    private static let prime: UInt64 = (1 << 61) - 1
    /// The process's `R` (never 0 or 1).
    private static let base = UInt64.random(in: 2..<(prime - 1))

    private(set) var count = 0
    private(set) var hash: UInt64 = 0
    /// R^count.
    private var power: UInt64 = 1

    init() {}

    /// Appends one member's check.
    mutating func append(_ member: MemberCheck) {
        let h = UInt64(bitPattern: Int64(member.hash)) % Self.prime
        hash = Self.add(hash, Self.multiply(h, power))
        power = Self.multiply(power, Self.base)
        count += 1
    }

    /// Appends the members `other` checks, after these.
    mutating func append(_ other: SequenceCheck) {
        hash = Self.add(hash, Self.multiply(other.hash, power))
        power = Self.multiply(power, other.power)
        count += other.count
    }

    /// As a `MemberCheck` (the snapshot fold's memo key).
    var check: MemberCheck { MemberCheck(count: count, hash: Int(truncatingIfNeeded: hash)) }

    private static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let s = a + b
        return s >= prime ? s - prime : s
    }

    /// a · b mod 2^61 − 1 (both below it): 2^61 ≡ 1.
    private static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        let folded = (low & prime) + ((low >> 61) | (high << 3))
        let once = (folded & prime) + (folded >> 61)
        return once >= prime ? once - prime : once
    }
}
