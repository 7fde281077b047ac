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

/// How much of a site-packages' RECORDs one read takes in (docs/pip.md): what a RECORD
/// over a cap lists is not verified (an error names it), never gigabytes on every scan.
struct RecordLimits: Sendable {
    /// Bytes of one RECORD (the biggest real wheels' RECORDs are a few MiB).
    var fileBytes: Int64 = 32 << 20
    /// Bytes of all RECORDs of one site-packages together.
    var totalBytes: Int64 = 128 << 20
    /// Entries of one RECORD.
    var fileEntries = 300_000
    /// Entries of all RECORDs of one site-packages together: a venv with torch and its
    /// dependencies lists 20-40k; each entry read costs the scan about 0.5 KB (docs/benchmarks.md).
    var totalEntries = 300_000

    static let standard = RecordLimits()
}

/// What a site-packages may still read of its RECORDs (`RecordLimits`' totals, less what was read).
struct RecordBudget {
    var limits: RecordLimits
    var bytes: Int64
    var entries: Int

    init(_ limits: RecordLimits = .standard) {
        self.limits = limits
        bytes = limits.totalBytes
        entries = limits.totalEntries
    }
}

/// Parses RECORD files: CSV with quoted fields (paths may hold commas and quotes).
public enum RecordFile {
    static let sizeLimit = RecordLimits.standard.fileBytes
    static let totalLimit = RecordLimits.standard.totalBytes
    static let entryLimit = RecordLimits.standard.fileEntries

    public static func parse(_ bytes: [UInt8], file: String) throws -> [RecordEntry] {
        try parse(bytes, file: Array(file.utf8))
    }

    /// - Parameters:
    ///   - file: the RECORD's name as bytes, for messages (site-packages' name may not be UTF-8).
    ///   - maxEntries: parsing stops after one entry more than this (the caller refuses the RECORD),
    ///     so a RECORD over the cap costs no more than the cap.
    static func parse(_ bytes: [UInt8], file: [UInt8], maxEntries: Int = .max) throws -> [RecordEntry] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DriftError(.pipInvalid, path: file, "RECORD is not UTF-8")
        }
        var out: [RecordEntry] = []
        var lineNo = 0
        for row in try csvRows(text, file: file, maxRows: maxEntries) {
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

    /// How many rows a RECORD without a quote holds (its lines that are not blank), counted
    /// without parsing; nil when it holds a quote (a quoted field may span lines).
    static func plainRowCount(_ bytes: [UInt8]) -> Int? {
        var rows = 0
        var blank = true
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): return nil
            case UInt8(ascii: "\n"):
                if !blank { rows += 1 }
                blank = true
            case UInt8(ascii: "\r"): continue
            default: blank = false
            }
        }
        return blank ? rows : rows + 1
    }

    /// RFC 4180 CSV as Python's csv module writes it.
    /// - Parameter maxRows: stops after one non-blank row more than this.
    static func csvRows(_ text: String, file: [UInt8], maxRows: Int = .max) throws -> [[String]] {
        var rows: [[String]] = []
        var kept = 0
        var row: [String] = []
        var field = ""
        var inQuotes = false
        // Scalars one at a time with one of lookahead: an array of the whole RECORD's scalars
        // would cost four bytes a byte.
        var it = text.unicodeScalars.makeIterator()
        var ahead = it.next()
        func pop() -> Unicode.Scalar? {
            let c = ahead
            ahead = it.next()
            return c
        }
        var line = 1
        while let c = pop() {
            if inQuotes {
                if c == "\"" {
                    if ahead == "\"" {
                        field.unicodeScalars.append("\"")
                        _ = pop()
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
                if row.count > 1 || !field.isEmpty { kept += 1 }
                rows.append(row)
                if kept > maxRows { return rows }
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
