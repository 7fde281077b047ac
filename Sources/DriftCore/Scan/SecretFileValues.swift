#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The strings in a secret-class file that code must not carry, whatever the file's shape:
/// - `KEY=VALUE` files, read as python-dotenv reads them (`DotEnv`);
/// - PEM files (keys, certificates with keys): each base64 body line and the whole body;
/// - JSON key files (a GCP service account, …): string fields whose name's last word says
///   key, secret, token, password or credential (`private_key`, `client_secret`, not
///   `token_uri`), and any PEM body inside a string.
/// Every string goes through `SecretValueFilter` (long enough, not a common word).
enum SecretFileValues {
    static func values(_ bytes: [UInt8], environment: [[UInt8]: [UInt8]] = [:]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        let trimmed = bytes.drop { DotEnv.isSpace($0) }
        if trimmed.first == UInt8(ascii: "{") || trimmed.first == UInt8(ascii: "[") {
            // `try?`: a file that only looks like JSON is read as dotenv and PEM below instead.
            if let json = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) {
                json.secretStrings(under: nil, into: &out)
            }
        }
        out += pemBodies(bytes)
        for b in DotEnv.parse(bytes) {
            guard let v = b.value else { continue }
            out.append(v)
        }
        for (_, v) in DotEnv.values(bytes, environment: environment) {
            if let v { out.append(v) }
        }
        var expanded: [[UInt8]] = []
        for v in out { expanded += SecretValueFilter.expand(v) }
        return expanded
    }

    /// Body lines of every `-----BEGIN …-----` block, and each body joined into one string.
    static func pemBodies(_ bytes: [UInt8]) -> [[UInt8]] {
        let text = bytes.replacingEscapedNewlines()
        var out: [[UInt8]] = []
        var body: [[UInt8]]?
        for raw in text.split(separator: 0x0A) {
            var line = Array(raw.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x22 })
            while let l = line.last, l == 0x0D || l == 0x20 || l == 0x09 || l == 0x22 || l == 0x2C { line.removeLast() }
            if line.starts(with: Array("-----BEGIN ".utf8)) {
                body = []
                continue
            }
            if line.starts(with: Array("-----END ".utf8)) {
                if let b = body, !b.isEmpty {
                    out += b
                    out.append(b.flatMap { $0 })
                }
                body = nil
                continue
            }
            // Header lines (`Proc-Type: 4,ENCRYPTED`) are not the key.
            if body != nil, !line.isEmpty, !line.contains(UInt8(ascii: ":")) { body?.append(line) }
        }
        return out
    }
}

extension Array where Element == UInt8 {
    /// A JSON or quoted string's `\n` escapes as line breaks (a PEM inside a JSON key file).
    func replacingEscapedNewlines() -> [UInt8] {
        guard contains(UInt8(ascii: "\\")) else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var i = 0
        while i < count {
            if self[i] == 0x5C, i + 1 < count, self[i + 1] == UInt8(ascii: "n") {
                out.append(0x0A)
                i += 2
                continue
            }
            out.append(self[i])
            i += 1
        }
        return out
    }
}

/// Any JSON document, for reading key files.
enum JSONValue: Decodable {
    case string(String)
    case object([String: JSONValue])
    case array([JSONValue])
    case other

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let o = try? c.decode([String: JSONValue].self) {
            self = .object(o)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .other
        }
    }

    /// Strings of fields whose name says secret, and PEM bodies in any string.
    func secretStrings(under name: String?, into out: inout [[UInt8]]) {
        switch self {
        case .string(let s):
            let bytes = Array(s.utf8)
            if let n = name, SecretAssignment.isSecretName(Array(n.utf8), lastWordOnly: true) { out.append(bytes) }
            if s.contains("-----BEGIN ") { out += SecretFileValues.pemBodies(bytes) }
        case .object(let o):
            for (k, v) in o { v.secretStrings(under: k, into: &out) }
        case .array(let a):
            for v in a { v.secretStrings(under: name, into: &out) }
        case .other:
            break
        }
    }
}
