import CCrypto

/// An OpenSSL `EVP_PKEY` loaded from PEM (Ed25519 for drift's manifest signatures).
final class PKey {
    let pointer: OpaquePointer

    /// Loads a private key (`openssl genpkey -algorithm ed25519`) or a public key.
    init(pem: [UInt8], isPrivate: Bool, file: [UInt8]) throws {
        // BIO_new_mem_buf keeps the pointer it is given, so the BIO lives and dies inside the closure.
        let loaded: OpaquePointer?? = pem.withUnsafeBytes { buf in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { return .none }
            defer { BIO_free(bio) }
            let key = isPrivate ? PEM_read_bio_PrivateKey(bio, nil, nil, nil) : PEM_read_bio_PUBKEY(bio, nil, nil, nil)
            return .some(key)
        }
        guard let read = loaded else {
            throw DriftError(.crypto, path: file, "BIO_new_mem_buf failed: \(opensslErrorText())")
        }
        guard let key = read else {
            throw DriftError(.signatureInvalid, path: file,
                "not a PEM \(isPrivate ? "private" : "public") key (\(opensslErrorText()))")
        }
        guard EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(key)
            throw DriftError(.signatureInvalid, path: file, "not an Ed25519 key")
        }
        pointer = key
    }

    deinit { EVP_PKEY_free(pointer) }
}

/// Detached Ed25519 signatures over whole files, the form
/// `openssl pkeyutl -sign/-verify -rawin` produces and checks.
public enum Ed25519 {
    /// Signs `message` with the private key in `keyFile`; returns the 64-byte signature.
    public static func sign(_ message: [UInt8], keyFile: String) throws -> [UInt8] {
        try sign(message, keyFile: Array(keyFile.utf8))
    }

    /// `sign(_:keyFile:)` for a key file named by bytes (a name that is not UTF-8 included).
    public static func sign(_ message: [UInt8], keyFile: [UInt8]) throws -> [UInt8] {
        let key = try PKey(pem: try readWholeFile(keyFile, limit: 64 << 10), isPrivate: true, file: keyFile)
        guard let ctx = EVP_MD_CTX_new() else {
            throw DriftError(.crypto, "EVP_MD_CTX_new failed: \(opensslErrorText())")
        }
        defer { EVP_MD_CTX_free(ctx) }
        try checkSSL(EVP_DigestSignInit(ctx, nil, nil, nil, key.pointer), "EVP_DigestSignInit")
        var len = 0
        let rc1 = message.withUnsafeBufferPointer { m in EVP_DigestSign(ctx, nil, &len, m.baseAddress, m.count) }
        try checkSSL(rc1, "EVP_DigestSign")
        var sig = [UInt8](repeating: 0, count: len)
        let rc2 = message.withUnsafeBufferPointer { m in EVP_DigestSign(ctx, &sig, &len, m.baseAddress, m.count) }
        try checkSSL(rc2, "EVP_DigestSign")
        return Array(sig.prefix(len))
    }

    /// Whether `signature` is valid for `message` under the public key in `keyFile`.
    public static func verify(_ message: [UInt8], signature: [UInt8], keyFile: String) throws -> Bool {
        try verify(message, signature: signature, keyFile: Array(keyFile.utf8))
    }

    /// `verify(_:signature:keyFile:)` for a key file named by bytes (a name that is not UTF-8 included).
    public static func verify(_ message: [UInt8], signature: [UInt8], keyFile: [UInt8]) throws -> Bool {
        let key = try PKey(pem: try readWholeFile(keyFile, limit: 64 << 10), isPrivate: false, file: keyFile)
        guard let ctx = EVP_MD_CTX_new() else {
            throw DriftError(.crypto, "EVP_MD_CTX_new failed: \(opensslErrorText())")
        }
        defer { EVP_MD_CTX_free(ctx) }
        try checkSSL(EVP_DigestVerifyInit(ctx, nil, nil, nil, key.pointer), "EVP_DigestVerifyInit")
        let rc = message.withUnsafeBufferPointer { m in
            signature.withUnsafeBufferPointer { s in
                EVP_DigestVerify(ctx, s.baseAddress, s.count, m.baseAddress, m.count)
            }
        }
        _ = opensslErrorText() // a failed verification leaves errors queued; drop them
        return rc == 1
    }
}
