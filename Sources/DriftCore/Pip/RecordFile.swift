import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One line of a wheel's RECORD: `path,sha256=<urlsafe-b64-nopad>,size`.
public struct RecordEntry: Codable, Sendable, Equatable {
    public var path: String
    /// The SHA-256 (hex in `pip.json`), nil for entries recorded without a hash (RECORD itself, .pyc).
    var sha256: Digest?
    var size: Int64?
}

/// Parses RECORD files: CSV with quoted fields (paths may hold commas and quotes).
public enum RecordFile {
    /// Largest RECORD read (the biggest real wheels' RECORDs are a few MiB).
    static let sizeLimit: Int64 = 32 << 20
    /// All RECORDs of one site-packages together.
    static let totalLimit: Int64 = 128 << 20
    /// Most entries one RECORD may list.
    static let entryLimit = 300_000

    public static func parse(_ bytes: [UInt8], file: String) throws -> [RecordEntry] {
        try parse(bytes, file: Array(file.utf8))
    }

    /// - Parameter file: the RECORD's name as bytes, for messages (site-packages' name may not be UTF-8).
    static func parse(_ bytes: [UInt8], file: [UInt8]) throws -> [RecordEntry] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DriftError(.pipInvalid, path: file, "RECORD is not UTF-8")
        }
        var out: [RecordEntry] = []
        var lineNo = 0
        for row in try csvRows(text, file: file) {
            lineNo += 1
            if row.count == 1 && row[0].isEmpty { continue }
            guard row.count == 3, !row[0].isEmpty else {
                throw DriftError(.pipInvalid, path: file, line: lineNo,
                    "RECORD row has \(row.count) fields, expected path,hash,size")
            }
            var sha: Digest?
            if !row[1].isEmpty {
                guard row[1].hasPrefix("sha256=") else {
                    throw DriftError(.pipInvalid, path: file, line: lineNo,
                        "unsupported hash '\(row[1].prefix(16))' (expected sha256=)")
                }
                guard let raw = base64URLDecode(String(row[1].dropFirst(7))), raw.count == 32 else {
                    throw DriftError(.pipInvalid, path: file, line: lineNo, "bad base64 in the sha256 of \(row[0])")
                }
                sha = Digest(bytes: raw)
            }
            var size: Int64?
            if !row[2].isEmpty {
                guard let n = Int64(row[2]), n >= 0 else {
                    throw DriftError(.pipInvalid, path: file, line: lineNo, "bad size '\(row[2])'")
                }
                size = n
            }
            out.append(RecordEntry(path: row[0], sha256: sha, size: size))
        }
        return out
    }

    /// RFC 4180 CSV as Python's csv module writes it.
    static func csvRows(_ text: String, file: [UInt8]) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var it = Array(text.unicodeScalars)[...]
        var line = 1
        while let c = it.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if it.first == "\"" {
                        field.unicodeScalars.append("\"")
                        it.removeFirst()
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty else {
                    throw DriftError(.pipInvalid, path: file, line: line, "stray quote inside a RECORD field")
                }
                inQuotes = true
            case ",":
                row.append(field)
                field = ""
            case "\r":
                continue
            case "\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
                line += 1
            default:
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw DriftError(.pipInvalid, path: file, line: line, "unterminated quote in RECORD") }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }

    /// urlsafe base64 without padding, as wheels write hashes.
    static func base64URLDecode(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in s.utf8 {
            let v = base64Table[Int(c)]
            if v > 63 { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero padding of a canonical encoding.
        if bits >= 6 || acc & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return out
    }

    /// urlsafe alphabet values; 0xFF for anything else (including `=` padding).
    private static let base64Table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8.enumerated() {
            t[Int(c)] = UInt8(i)
        }
        return t
    }()
}

/// `Name:` and `Version:` from METADATA / PKG-INFO (RFC 822 style headers).
public enum CoreMetadata {
    static func nameAndVersion(_ bytes: [UInt8], file: String) throws -> (String, String) {
        try nameAndVersion(bytes, file: Array(file.utf8))
    }

    static func nameAndVersion(_ bytes: [UInt8], file: [UInt8]) throws -> (String, String) {
        var name: String?, version: String?
        // Split on bytes: Swift reads "\r\n" as one Character, and wheels use either ending.
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = String(decoding: raw.last == 0x0D ? raw.dropLast() : raw, as: UTF8.self)
            if line.isEmpty { break } // headers end at the first blank line
            if name == nil, line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingWhitespace() }
            if version == nil, line.hasPrefix("Version:") { version = line.dropFirst(8).trimmingWhitespace() }
        }
        guard let n = name, !n.isEmpty else { throw DriftError(.pipInvalid, path: file, "metadata has no Name") }
        guard let v = version, !v.isEmpty else { throw DriftError(.pipInvalid, path: file, "metadata has no Version") }
        return (n, v)
    }
}
