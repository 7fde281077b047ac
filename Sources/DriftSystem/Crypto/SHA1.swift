import CCrypto

/// One reusable SHA-1 context (OpenSSL EVP): git's object and pack checksums. Not thread-safe.
public final class SHA1Hasher {
    private let ctx: OpaquePointer

    /// Allocates and starts a context.
    /// - Throws: `DriftError` when OpenSSL cannot allocate or initialise it.
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
        try checkSSL(EVP_DigestInit_ex(ctx, EVP_sha1(), nil), "EVP_DigestInit_ex")
    }

    /// Feeds `count` bytes at `ptr`.
    public func update(_ ptr: UnsafeRawPointer, _ count: Int) throws {
        try checkSSL(EVP_DigestUpdate(ctx, ptr, count), "EVP_DigestUpdate")
    }

    /// Feeds a buffer (nothing when it is empty).
    public func update(_ buffer: UnsafeRawBufferPointer) throws {
        if let base = buffer.baseAddress, buffer.count > 0 { try update(base, buffer.count) }
    }

    /// Finishes the digest and starts the next one.
    /// - Returns: the 20 digest bytes.
    public func finish() throws -> [UInt8] {
        var sum = [UInt8](repeating: 0, count: 20)
        var len: UInt32 = 0
        try checkSSL(EVP_DigestFinal_ex(ctx, &sum, &len), "EVP_DigestFinal_ex")
        try reset()
        return sum
    }
}

/// Keyed hashes.
public enum HMAC {
    /// HMAC-SHA1 (the hashed host names of OpenSSH's `known_hosts`).
    /// - Parameters:
    ///   - key: the key (a known_hosts entry's salt).
    ///   - data: the message.
    /// - Returns: the 20-byte MAC, or nil when OpenSSL fails.
    public static func sha1(key: [UInt8], _ data: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 20)
        var len = 0
        let ok = key.withUnsafeBytes { k in
            data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { o in
                    EVP_Q_mac(nil, "HMAC", nil, "SHA1", nil, k.baseAddress, k.count, d.baseAddress, d.count,
                              o.baseAddress, o.count, &len) != nil
                }
            }
        }
        return ok && len == 20 ? out : nil
    }
}

/// The linked OpenSSL.
public enum OpenSSLLibrary {
    /// OpenSSL's own version line, e.g. `OpenSSL 3.0.19 27 Jan 2026`.
    public static var version: String {
        OpenSSL_version(Int32(OPENSSL_VERSION)).map { String(cString: $0) } ?? "unknown"
    }
}
