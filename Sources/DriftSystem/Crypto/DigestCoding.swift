/// A digest is 64 lowercase hex digits in JSON (reports, `pip.json`): hex only at the edge.
extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let d = Digest(hex: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a SHA-256 (64 hex digits)")
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

extension Digest: CustomStringConvertible {
    /// Lowercase hex, so a digest reads the same in text as in JSON.
    public var description: String { hex }
}
