/// A secret value as other bytes that carry it whole: base64 (standard and URL-safe, at each
/// of the three alignments it can have inside a longer encoded string), hex (both cases) and
/// UTF-16 (both byte orders), and a token's halves (`windows`). `b64decode("c2stbGl2ZS…")`, a
/// key saved by a UTF-16 editor, or one cut across two string literals is the key. Only values
/// of at least `minimumBytes` get encodings, so an encoded needle is at least 16 characters long
/// and does not match by chance.
enum SecretEncodings {
    static let minimumBytes = 12

    static func of(_ v: [UInt8]) -> [[UInt8]] {
        guard v.count >= minimumBytes else { return [] }
        var out: [[UInt8]] = []
        for shift in 0..<3 {
            // Whole 3-byte groups from `shift` on: the characters they encode to do not depend on
            // the bytes around the value, wherever it sits in the encoded text.
            let groups = (v.count - shift) / 3
            let std = base64(Array(v[shift..<(shift + groups * 3)]))
            out.append(std)
            out.append(std.map { $0 == 0x2B ? 0x2D : $0 == 0x2F ? 0x5F : $0 })
        }
        let lower: [UInt8] = Array("0123456789abcdef".utf8), upper: [UInt8] = Array("0123456789ABCDEF".utf8)
        out.append(v.flatMap { [lower[Int($0 >> 4)], lower[Int($0 & 0x0F)]] })
        out.append(v.flatMap { [upper[Int($0 >> 4)], upper[Int($0 & 0x0F)]] })
        if v.allSatisfy({ $0 < 0x80 }) {
            out.append(v.flatMap { [$0, 0] })
            out.append(v.flatMap { [0, $0] })
        }
        return out
    }

    /// A token-like value (24–128 bytes of `[A-Za-z0-9_+=.-]`, no URL or path) as its windows of
    /// half its length (at least 12 bytes), at every offset: a key cut in two to span two string
    /// literals keeps one piece at least half as long, which holds a window whole.
    static func windows(_ v: [UInt8]) -> [[UInt8]] {
        guard (24...128).contains(v.count), v.allSatisfy({ SecretFormats.isAlnum($0) || "_+=.-".utf8.contains($0) })
        else { return [] }
        let w = max(minimumBytes, (v.count + 1) / 2)
        return (0...(v.count - w)).map { Array(v[$0..<($0 + w)]) }
    }

    static func base64(_ d: [UInt8]) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(d.count / 3 * 4)
        var i = 0
        while i + 2 < d.count {
            let n = UInt32(d[i]) << 16 | UInt32(d[i + 1]) << 8 | UInt32(d[i + 2])
            for s in [18, 12, 6, 0] { out.append(alphabet[Int((n >> UInt32(s)) & 0x3F)]) }
            i += 3
        }
        return out
    }
}
