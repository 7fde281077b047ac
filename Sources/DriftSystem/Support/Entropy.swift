#if canImport(Glibc)
import Glibc
#endif

/// Shannon entropy of `bytes` in bits per byte (0 for an empty array): how random a
/// candidate secret looks (`SecretAssignment`).
public func shannonEntropy(_ bytes: [UInt8]) -> Double {
    if bytes.isEmpty { return 0 }
    var counts = [Int](repeating: 0, count: 256)
    for c in bytes { counts[Int(c)] += 1 }
    let n = Double(bytes.count)
    var h = 0.0
    for c in counts where c > 0 {
        let p = Double(c) / n
        h -= p * log2(p)
    }
    return h
}
