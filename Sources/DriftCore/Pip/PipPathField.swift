import DriftSystem

/// A path in `pip.json` (site-packages, its prefix, the requirements file): the text field
/// drift always wrote (`path`), and beside it, only when the name is not UTF-8, the exact bytes
/// percent-escaped as the manifest and `state.json` escape them (`path_escaped`,
/// `PathBytes.escape`). A UTF-8 name is written as before, so a `pip.json` baked by an older
/// drift reads the same, and one baked now reads in an older drift unless a name is not UTF-8.
enum PipPathField {
    /// Writes `bytes` as `text` (its UTF-8, or its quoted form for people) and, when not UTF-8,
    /// as `escaped`.
    static func encode<K: CodingKey>(_ bytes: [UInt8], _ c: inout KeyedEncodingContainer<K>, _ text: K,
                                     escaped: K) throws {
        if let s = String(validating: bytes, as: UTF8.self) {
            try c.encode(s, forKey: text)
            return
        }
        try c.encode(PathBytes.display(bytes), forKey: text)
        try c.encode(PathBytes.escape(bytes), forKey: escaped)
    }

    /// The bytes: `escaped` when present (the text beside it is only for people), else `text`.
    static func decode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ text: K, escaped: K) throws -> [UInt8] {
        guard let bytes = try decodeIfPresent(c, text, escaped: escaped) else {
            throw DecodingError.keyNotFound(text, .init(codingPath: c.codingPath, debugDescription: "no path"))
        }
        return bytes
    }

    static func decodeIfPresent<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ text: K,
                                              escaped: K) throws -> [UInt8]? {
        if let e = try c.decodeIfPresent(String.self, forKey: escaped) {
            guard let bytes = PathBytes.unescape(e.utf8), !bytes.isEmpty else {
                throw DecodingError.dataCorruptedError(forKey: escaped, in: c,
                                                       debugDescription: "not a percent-escaped path")
            }
            return bytes
        }
        return try c.decodeIfPresent(String.self, forKey: text).map { Array($0.utf8) }
    }
}
