import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The file manifest: what the workspace held at image build time.
///
/// Text format `drift-manifest 1` (docs/manifest-format.md): a header, one line per
/// path in byte order, then `sha256 <hex>` over every byte before that line, so a
/// truncated or altered file is refused.
public struct Manifest: Sendable {
    static let magic = "drift-manifest 1"

    public var commit: String
    public var root: [UInt8]
    var policySHA256: Digest
    /// Other files in the manifest directory that drift trusts, pinned by SHA-256.
    public var pins: [(name: String, sha256: Digest)]
    /// Sorted by path bytes, stored flat (`ManifestTable`).
    public var entries: ManifestTable

    public init(commit: String,
                root: [UInt8],
                policySHA256: Digest,
                pins: [(name: String, sha256: Digest)] = [],
                entries: [ManifestEntry]) {
        self.commit = commit
        self.root = root
        self.policySHA256 = policySHA256
        self.pins = pins.sorted { $0.name < $1.name }
        self.entries = ManifestTable(entries.sorted { PathBytes.less($0.path, $1.path) })
    }

    /// The serialised bytes (deterministic: same inputs, same bytes).
    func serialized() throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(entries.count * 120 + 512)
        func line(_ s: String) {
            out.append(contentsOf: s.utf8)
            out.append(0x0A)
        }
        line(Manifest.magic)
        line("commit \(commit)")
        line("root \(PathBytes.escape(root))")
        line("policy-sha256 \(policySHA256.hex)")
        for p in pins { line("pin \(p.name) \(p.sha256.hex)") }
        line("entries \(entries.count)")
        for e in entries {
            let kind = e.kind == .symlink ? "L" : "F"
            var s = "\(kind) \(e.gitMode.octal) \(e.size) \(e.digest.hex) \(PathBytes.escape(e.path))"
            if let t = e.target { s += " " + PathBytes.escape(t) }
            line(s)
        }
        let sum = try SHA256Hasher.digest(out)
        line("sha256 \(sum.hex)")
        return out
    }

    /// The `root` header line, read without verifying anything (lets a scan start walking
    /// while the manifest is still being parsed and verified).
    static func peekRoot(_ bytes: [UInt8]) -> [UInt8]? {
        var start = 0
        for _ in 0..<4 {
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else { return nil }
            let line = bytes[start..<nl]
            if line.starts(with: Array("root ".utf8)) { return PathBytes.unescape(line.dropFirst(5)) }
            start = nl + 1
        }
        return nil
    }

    /// The `policy-sha256` header, read without parsing the rest: the policy's pin is checked
    /// before a byte of the policy is parsed.
    static func peekPolicySHA256(_ bytes: [UInt8]) -> Digest? {
        var start = 0
        for _ in 0..<8 {
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else { return nil }
            let line = bytes[start..<nl]
            if line.starts(with: Array("policy-sha256 ".utf8)) {
                return Digest(hexBytes: line.dropFirst(14))
            }
            start = nl + 1
        }
        return nil
    }

    /// The SHA-256 a `pin NAME …` header line gives, read without verifying anything (the
    /// caller checks it against the verified manifest's pins).
    static func peekPin(_ bytes: [UInt8], _ name: String) -> Digest? {
        let prefix = Array("pin \(name) ".utf8)
        var start = 0
        for _ in 0..<64 {
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else { return nil }
            let line = bytes[start..<nl]
            if line.starts(with: Array("entries ".utf8)) { return nil }
            if line.starts(with: prefix) { return Digest(hexBytes: line.dropFirst(prefix.count)) }
            start = nl + 1
        }
        return nil
    }

    /// Parses and verifies a manifest file; errors name `file` and the line. With `index`
    /// (the verified `manifest.idx` the header pins), the entry lines are only counted and
    /// the entries are the index's.
    static func parse(_ bytes: [UInt8], file: String, index: ManifestTable? = nil) throws -> Manifest {
        try parse(bytes, file: Array(file.utf8), index: index)
    }

    /// `parse(_:file:index:)` with the file named by bytes (MDIR's name, not UTF-8 too).
    public static func parse(_ bytes: [UInt8], file: [UInt8], index: ManifestTable? = nil) throws -> Manifest {
        // The checksum line is the last line; verify before trusting any field.
        let end = try checkTrailer(bytes, file: file)
        var lines = Lines()
        var lineNo = 0
        var sawMagic = false
        // Hand-rolled field splitting: this runs on every scan over every entry.
        var pos = 0
        var fields: [Range<Int>] = []
        fields.reserveCapacity(6)
        while pos < end {
            let found: Int? = bytes.withUnsafeBytes { b in
                findByte(0x0A, in: b.baseAddress! + pos, count: end - pos).map { $0 + pos }
            }
            guard let nl = found else { break }
            lineNo += 1
            let line = pos..<nl
            pos = nl + 1
            if !sawMagic {
                guard String(decoding: bytes[line], as: UTF8.self) == magic else {
                    throw DriftError(.manifestInvalid, path: file,
                        "not a drift manifest (expected '\(magic)' on line 1)")
                }
                sawMagic = true
                continue
            }
            // Entry lines are only counted when the index holds the entries.
            if index != nil && line.count > 2 && bytes[line.lowerBound + 1] == 0x20
                && (bytes[line.lowerBound] == UInt8(ascii: "F") || bytes[line.lowerBound] == UInt8(ascii: "L")) {
                lines.indexed += 1
                continue
            }
            fields.removeAll(keepingCapacity: true)
            var f = line.lowerBound
            for i in line where bytes[i] == 0x20 {
                fields.append(f..<i)
                f = i + 1
            }
            fields.append(f..<line.upperBound)
            let tagByte = bytes[fields[0]].count == 1 ? bytes[fields[0].lowerBound] : 0
            if tagByte == UInt8(ascii: "F") || tagByte == UInt8(ascii: "L") {
                lines.entries.append(try entry(bytes, fields, isLink: tagByte == UInt8(ascii: "L"),
                                               after: lines.entries.last, file: file, lineNo: lineNo))
            } else {
                try header(bytes, fields, into: &lines, file: file, lineNo: lineNo)
            }
        }
        return try assemble(lines, file: file, index: index)
    }
}
