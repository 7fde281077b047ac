import CCrypto

/// A 32-byte SHA-256 digest.
public struct Digest: Hashable, Sendable, Comparable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: some StringProtocol) {
        let u = Array(hex.utf8)
        guard u.count == 64 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let h = PathBytes.hexValue(u[i]), let l = PathBytes.hexValue(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        bytes = out
    }

    /// Lowercase hex.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (a: Digest, b: Digest) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}

/// One reusable SHA-256 context (OpenSSL EVP). Not thread-safe: one per worker.
public final class SHA256Hasher {
    private let ctx: OpaquePointer

    public init() throws {
        guard let c = EVP_MD_CTX_new() else { throw DriftError("EVP_MD_CTX_new failed: \(opensslErrorText())") }
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
