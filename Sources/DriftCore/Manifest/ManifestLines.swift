import DriftGit
import DriftSystem

/// A non-negative decimal number of at most 18 digits, read without making a String.
private func decimal(_ digits: ArraySlice<UInt8>) -> Int64? {
    guard !digits.isEmpty, digits.count <= 18 else { return nil }
    var v: Int64 = 0
    for d in digits {
        guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
        v = v * 10 + Int64(d - UInt8(ascii: "0"))
    }
    return v
}

/// The pieces of `Manifest.parse`: the checksum trailer, entry lines, header lines, and the
/// checks made once every line is read.
extension Manifest {
    /// A manifest's fields as its lines are read.
    struct Lines {
        var commit = ""
        var root: [UInt8]?
        var policy: Digest?
        var pins: [(String, Digest)] = []
        var entries: [ManifestEntry] = []
        /// The `entries N` header's count (-1: none yet).
        var expected = -1
        /// Entry lines counted, not parsed (the index holds the entries).
        var indexed = 0
    }

    static func corrupt(_ file: [UInt8], _ lineNo: Int, _ what: String) -> DriftError {
        DriftError(.manifestInvalid, path: file, line: lineNo, "manifest is corrupt: \(what)")
    }

    /// Verifies the last line, `sha256 <hex of everything before it>`, before any field is
    /// trusted. Returns where that line starts (the end of the manifest's body).
    static func checkTrailer(_ bytes: [UInt8], file: [UInt8]) throws -> Int {
        if bytes.isEmpty { throw DriftError(.manifestInvalid, path: file, "manifest is empty") }
        guard bytes.last == 0x0A else {
            throw DriftError(.manifestInvalid, path: file, "manifest is truncated (no final newline)")
        }
        let body = bytes.dropLast()
        guard let lastNL = body.lastIndex(of: 0x0A) else {
            throw DriftError(.manifestInvalid, path: file, "manifest is truncated (one line)")
        }
        let trailer = String(decoding: bytes[(lastNL + 1)..<(bytes.count - 1)], as: UTF8.self)
        guard trailer.hasPrefix("sha256 "), let want = Digest(hex: trailer.dropFirst(7)) else {
            throw DriftError(.manifestInvalid, path: file, "manifest is truncated or damaged (no sha256 trailer)")
        }
        let h = try SHA256Hasher()
        try bytes.withUnsafeBytes { try h.update($0.baseAddress!, lastNL + 1) }
        guard try h.finish() == want else {
            throw DriftError(.manifestInvalid, path: file, "manifest checksum does not match (file altered or damaged)")
        }
        return lastNL + 1
    }

    /// An `F` (file) or `L` (link) line: `F mode size sha256 path`, `L mode size sha256 path target`.
    static func entry(_ bytes: [UInt8], _ fields: [Range<Int>], isLink: Bool, after prev: ManifestEntry?,
                      file: [UInt8], lineNo: Int) throws -> ManifestEntry {
        guard fields.count == (isLink ? 6 : 5),
              let size = decimal(bytes[fields[2]]),
              let digest = Digest(hexBytes: bytes[fields[3]]),
              let path = PathBytes.unescape(bytes[fields[4]]), !path.isEmpty else {
            throw corrupt(file, lineNo, "malformed entry")
        }
        let mode = GitFileMode(octal: bytes[fields[1]])
        var e = ManifestEntry(path: path,
                              kind: isLink ? .symlink : .regular,
                              executable: mode == .executable,
                              size: size,
                              digest: digest)
        if isLink {
            guard mode == .symlink,
                  let t = PathBytes.unescape(bytes[fields[5]]) else {
                throw corrupt(file, lineNo, "malformed link")
            }
            e.target = t
        } else if mode != .executable && mode != .blob {
            throw corrupt(file, lineNo, "unknown mode \(String(decoding: bytes[fields[1]], as: UTF8.self))")
        }
        if let prev, !bytesLess(prev.path, path) {
            throw corrupt(file, lineNo, "entries out of order")
        }
        return e
    }

    /// A header line: `commit`, `root`, `policy-sha256`, `pin`, `entries`.
    static func header(_ bytes: [UInt8], _ fields: [Range<Int>], into m: inout Lines,
                       file: [UInt8], lineNo: Int) throws {
        func text(_ k: Int) -> String { String(decoding: bytes[fields[k]], as: UTF8.self) }
        let tag = text(0)
        switch tag {
        case "commit" where fields.count == 2:
            m.commit = text(1)
        case "root" where fields.count == 2:
            m.root = PathBytes.unescape(bytes[fields[1]])
        case "policy-sha256" where fields.count == 2:
            guard let d = Digest(hexBytes: bytes[fields[1]]) else { throw corrupt(file, lineNo, "bad policy-sha256") }
            m.policy = d
        case "pin" where fields.count == 3:
            guard let d = Digest(hexBytes: bytes[fields[2]]) else { throw corrupt(file, lineNo, "bad pin sha256") }
            m.pins.append((text(1), d))
        case "entries" where fields.count == 2:
            guard let n = Int(text(1)), n >= 0, n < 100_000_000 else {
                throw corrupt(file, lineNo, "bad entry count")
            }
            m.expected = n
            m.entries.reserveCapacity(n)
        default:
            throw corrupt(file, lineNo, "unknown line '\(tag)'")
        }
    }

    /// The manifest the lines make, once each required header is there and the entry
    /// count (of the lines, or of the index) is the one the header says.
    static func assemble(_ l: Lines, file: [UInt8], index: ManifestTable?) throws -> Manifest {
        let commit = l.commit
        guard commit.count == 40 || commit.count == 64, commit.allSatisfy({ $0.isHexDigit }) else {
            throw DriftError(.manifestInvalid, path: file, "manifest has no valid commit id")
        }
        guard let r = l.root else { throw DriftError(.manifestInvalid, path: file, "manifest has no root") }
        guard let policy = l.policy else {
            throw DriftError(.manifestInvalid, path: file, "manifest has no policy-sha256")
        }
        let listed = index == nil ? l.entries.count : l.indexed
        guard l.expected == listed else {
            throw DriftError(.manifestInvalid, path: file, "manifest lists \(listed) entries but says \(l.expected)")
        }
        var m = Manifest(commit: commit, root: r, policySHA256: policy, entries: [])
        m.pins = l.pins.map { (name: $0.0, sha256: $0.1) }
        if let index {
            guard index.count == l.expected else {
                throw DriftError(.manifestInvalid, path: file,
                    "manifest lists \(l.expected) entries but its index holds \(index.count)")
            }
            m.entries = index
        } else {
            m.entries = ManifestTable(l.entries)
        }
        return m
    }
}
