import CCrypto

/// `count` bytes from OpenSSL's CSPRNG (seeded from the kernel): salts that must not be guessed.
/// - Throws: `DriftError` `.crypto` when the generator cannot give them.
public func secureRandomBytes(_ count: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    try checkSSL(RAND_bytes(&out, Int32(count)), "RAND_bytes")
    return out
}
