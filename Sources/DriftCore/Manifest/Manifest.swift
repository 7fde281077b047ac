import Foundation

/// The file manifest: what the workspace held at image build time.
///
/// Text format `drift-manifest 1` (docs/manifest-format.md): a header, one line per
/// path in byte order, then `sha256 <hex>` over every byte before that line, so a
/// truncated or altered file is refused.
public struct Manifest: Sendable {
    public static let magic = "drift-manifest 1"

    public var commit: String
    public var root: [UInt8]
    public var policySHA256: String
    /// Other files in the manifest directory that drift trusts, pinned by SHA-256.
    public var pins: [(name: String, sha256: String)]
    /// Sorted by path bytes.
    public var entries: [ManifestEntry]

    public init(commit: String, root: [UInt8], policySHA256: String, pins: [(name: String, sha256: String)] = [], entries: [ManifestEntry]) {
        self.commit = commit
        self.root = root
        self.policySHA256 = policySHA256
        self.pins = pins.sorted { $0.name < $1.name }
        self.entries = entries.sorted { PathBytes.less($0.path, $1.path) }
    }

    /// The serialised bytes (deterministic: same inputs, same bytes).
    public func serialized() throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(entries.count * 120 + 512)
        func line(_ s: String) { out.append(contentsOf: s.utf8); out.append(0x0A) }
        line(Manifest.magic)
        line("commit \(commit)")
        line("root \(PathBytes.escape(root))")
        line("policy-sha256 \(policySHA256)")
        for p in pins { line("pin \(p.name) \(p.sha256)") }
        line("entries \(entries.count)")
        for e in entries {
            var s = "\(e.kind == .symlink ? "L" : "F") \(e.gitMode) \(e.size) \(e.digest.hex) \(PathBytes.escape(e.path))"
            if let t = e.target { s += " " + PathBytes.escape(t) }
            line(s)
        }
        let sum = try SHA256Hasher.digest(out)
        line("sha256 \(sum.hex)")
        return out
    }

    /// Parses and verifies a manifest file; errors name `file` and the line.
    public static func parse(_ bytes: [UInt8], file: String) throws -> Manifest {
        func bad(_ lineNo: Int, _ what: String) -> DriftError {
            DriftError("\(file):\(lineNo): manifest is corrupt: \(what)")
        }
        if bytes.isEmpty { throw DriftError("\(file): manifest is empty") }
        guard bytes.last == 0x0A else { throw DriftError("\(file): manifest is truncated (no final newline)") }
        // The checksum line is the last line; verify before trusting any field.
        let body = bytes.dropLast()
        guard let lastNL = body.lastIndex(of: 0x0A) else { throw DriftError("\(file): manifest is truncated (one line)") }
        let trailer = String(decoding: bytes[(lastNL + 1)..<(bytes.count - 1)], as: UTF8.self)
        guard trailer.hasPrefix("sha256 "), let want = Digest(hex: trailer.dropFirst(7)) else {
            throw DriftError("\(file): manifest is truncated or damaged (no sha256 trailer)")
        }
        let h = try SHA256Hasher()
        try bytes.withUnsafeBytes { try h.update($0.baseAddress!, lastNL + 1) }
        guard try h.finish() == want else {
            throw DriftError("\(file): manifest checksum does not match (file altered or damaged)")
        }
        var commit = "", root: [UInt8]?, policy = "", pins: [(String, String)] = []
        var entries: [ManifestEntry] = []
        var expected = -1
        var lineNo = 0
        var sawMagic = false
        for raw in bytes[0..<(lastNL + 1)].split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            lineNo += 1
            if !sawMagic {
                guard String(decoding: raw, as: UTF8.self) == magic else {
                    throw DriftError("\(file): not a drift manifest (expected '\(magic)' on line 1)")
                }
                sawMagic = true
                continue
            }
            let fields = raw.split(separator: 0x20, omittingEmptySubsequences: false)
            guard let tag = fields.first.map({ String(decoding: $0, as: UTF8.self) }) else { throw bad(lineNo, "empty line") }
            switch tag {
            case "commit" where fields.count == 2:
                commit = String(decoding: fields[1], as: UTF8.self)
            case "root" where fields.count == 2:
                root = PathBytes.unescape(fields[1])
            case "policy-sha256" where fields.count == 2:
                policy = String(decoding: fields[1], as: UTF8.self)
            case "pin" where fields.count == 3:
                pins.append((String(decoding: fields[1], as: UTF8.self), String(decoding: fields[2], as: UTF8.self)))
            case "entries" where fields.count == 2:
                guard let n = Int(String(decoding: fields[1], as: UTF8.self)) else { throw bad(lineNo, "bad entry count") }
                expected = n
                entries.reserveCapacity(n)
            case "F", "L":
                guard fields.count == (tag == "L" ? 6 : 5),
                      let size = Int64(String(decoding: fields[2], as: UTF8.self)),
                      let digest = Digest(hex: String(decoding: fields[3], as: UTF8.self)),
                      let path = PathBytes.unescape(fields[4]), !path.isEmpty else {
                    throw bad(lineNo, "malformed entry")
                }
                let mode = String(decoding: fields[1], as: UTF8.self)
                var e = ManifestEntry(path: path, kind: tag == "L" ? .symlink : .regular,
                                      executable: mode == "100755", size: size, digest: digest)
                if tag == "L" {
                    guard mode == "120000", let t = PathBytes.unescape(fields[5]) else { throw bad(lineNo, "malformed link") }
                    e.target = t
                } else if mode != "100644" && mode != "100755" {
                    throw bad(lineNo, "unknown mode \(mode)")
                }
                if let prev = entries.last, !PathBytes.less(prev.path, path) {
                    throw bad(lineNo, "entries out of order")
                }
                entries.append(e)
            default:
                throw bad(lineNo, "unknown line '\(tag)'")
            }
        }
        guard commit.count == 40 || commit.count == 64, commit.allSatisfy({ $0.isHexDigit }) else {
            throw DriftError("\(file): manifest has no valid commit id")
        }
        guard let r = root else { throw DriftError("\(file): manifest has no root") }
        guard expected == entries.count else {
            throw DriftError("\(file): manifest lists \(entries.count) entries but says \(expected)")
        }
        var m = Manifest(commit: commit, root: r, policySHA256: policy, entries: [])
        m.pins = pins.map { (name: $0.0, sha256: $0.1) }
        m.entries = entries
        return m
    }
}
