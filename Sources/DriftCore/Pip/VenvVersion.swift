import DriftSystem

/// The exact Python version that made a venv, from its `pyvenv.cfg` (`version = 3.11.7`, or
/// virtualenv's `version_info = 3.11.7.final.0`): a verifier of another micro release may
/// compile other code objects from the same source.
enum VenvVersion {
    /// `major.minor.micro` of the venv at `prefix`; nil when there is no readable `pyvenv.cfg`.
    static func read(prefix: String) -> String? { read(prefix: Array(prefix.utf8)) }

    static func read(prefix: [UInt8]) -> String? {
        let reader = FileReader(root: prefix)
        guard let bytes = try? reader.readAll(Array("pyvenv.cfg".utf8), limit: 64 << 10),
              let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return parse(text)
    }

    static func parse(_ text: String) -> String? {
        var found: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = trim(line[..<eq])
            let value = trim(line[line.index(after: eq)...])
            let parts = value.split(separator: ".").prefix(3)
            guard parts.count == 3, parts.allSatisfy({ Int($0) != nil }) else { continue }
            found[key] = parts.joined(separator: ".")
        }
        return found["version_info"] ?? found["version"]
    }

    static func trim(_ s: Substring) -> String {
        String(s.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
