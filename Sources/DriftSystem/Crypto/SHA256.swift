import CCrypto

/// A 32-byte SHA-256 digest, held inline (no heap allocation per file).
public struct Digest: Hashable, Sendable, Comparable {
    // Big-endian words: comparing them in order compares the bytes.
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(bytes: some Collection<UInt8>) {
        var w = [UInt64](repeating: 0, count: 4)
        for (i, b) in bytes.prefix(32).enumerated() { w[i / 8] |= UInt64(b) << (56 - 8 * UInt64(i % 8)) }
        (w0, w1, w2, w3) = (w[0], w[1], w[2], w[3])
    }

    /// Parses 64 hex digits from bytes (no intermediate string; runs per manifest line).
    public init?(hexBytes u: ArraySlice<UInt8>) {
        guard u.count == 64 else { return nil }
        let parsed: (UInt64, UInt64, UInt64, UInt64)? = u.withUnsafeBufferPointer { b in
            func word(_ start: Int) -> UInt64? {
                var w: UInt64 = 0
                // No table: a static table costs a swift_once call per digest (per manifest line).
                for i in start..<(start + 16) {
                    guard let v = PathBytes.hexValue(b[i]) else { return nil }
                    w = w << 4 | UInt64(v)
                }
                return w
            }
            guard let a = word(0), let c = word(16), let d = word(32), let e = word(48) else { return nil }
            return (a, c, d, e)
        }
        guard let w = parsed else { return nil }
        (w0, w1, w2, w3) = w
    }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: some StringProtocol) {
        self.init(hexBytes: Array(hex.utf8)[...])
    }

    /// The 32 bytes.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> (56 - 8 * UInt64(k)))) }
        }
        return out
    }

    /// From the four big-endian 64-bit words of the digest (binary indexes store it so).
    public init(words a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) {
        w0 = a
        w1 = b
        w2 = c
        w3 = d
    }

    /// The four big-endian 64-bit words.
    public var words: (UInt64, UInt64, UInt64, UInt64) { (w0, w1, w2, w3) }

    /// Lowercase hex.
    public var hex: String { hexEncode(bytes) }

    public static func < (a: Digest, b: Digest) -> Bool { (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3) }
}

/// Lowercase hex of any bytes (digests, git object ids).
public func hexEncode(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// One reusable SHA-256 context (OpenSSL EVP). Not thread-safe: one per worker.
public final class SHA256Hasher {
    private let ctx: OpaquePointer

    public init() throws {
        guard let c = EVP_MD_CTX_new() else {
            throw DriftError(.crypto, "EVP_MD_CTX_new failed: \(opensslErrorText())")
        }
        ctx = c
        try reset()
    }

    deinit { EVP_MD_CTX_free(ctx) }

    /// Starts a new digest.
    public func reset() throws {
        try checkSSL(EVP_DigestInit_ex(ctx, EVP_sha256(), nil), "EVP_DigestInit_ex")
    }

    /// Feeds bytes.
    public func update(_ ptr: UnsafeRawPointer, _ count: Int) throws {
        try checkSSL(EVP_DigestUpdate(ctx, ptr, count), "EVP_DigestUpdate")
    }

    public func update(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buf in
            if let base = buf.baseAddress { try update(base, buf.count) }
        }
    }

    /// Finishes the digest and resets the context for the next one.
    public func finish() throws -> Digest {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        try checkSSL(EVP_DigestFinal_ex(ctx, &out, &len), "EVP_DigestFinal_ex")
        try reset()
        return Digest(bytes: Array(out.prefix(Int(len))))
    }

    /// One-shot digest of a byte array.
    public static func digest(_ bytes: [UInt8]) throws -> Digest {
        let h = try SHA256Hasher()
        try h.update(bytes)
        return try h.finish()
    }
}
