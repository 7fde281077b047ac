import CCrypto

/// Turns an OpenSSL return code into a `DriftError` carrying `ERR_get_error()` text.
@discardableResult
func checkSSL(_ rc: Int32, _ function: String) throws -> Int32 {
    if rc == 1 { return rc }
    throw DriftError(.crypto, "\(function) failed: \(opensslErrorText())")
}

/// Drains OpenSSL's error queue into one line.
func opensslErrorText() -> String {
    var parts: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buf = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buf, buf.count)
        parts.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return parts.isEmpty ? "unknown OpenSSL error" : parts.joined(separator: "; ")
}
