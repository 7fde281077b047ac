import DriftGit
import DriftSystem

/// Lines fed to one SHA-256 in pieces of about 64 KiB, written as bytes: the same digest as
/// the lines made as Strings (`PathBytes.escape`, `Digest.hex`, `GitFileMode.octal`) and
/// hashed one by one, without a String, an array or a hasher call per line. A watch batch
/// hashes a line per drifted path twice (the fingerprint, the snapshot's summaries): at
/// 200,000 paths the Strings were most of that cost (issue 28).
struct HashedLines {
    private let hasher: SHA256Hasher
    private var buffer: [UInt8] = []
    private static let flushAt = 1 << 16
    private static let lowerHex: [UInt8] = Array("0123456789abcdef".utf8)

    init(_ hasher: SHA256Hasher) {
        self.hasher = hasher
        buffer.reserveCapacity(Self.flushAt + 4096)
    }

    /// Raw bytes.
    mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    mutating func append(byte: UInt8) {
        buffer.append(byte)
    }

    /// A String's UTF-8 bytes.
    mutating func append(text: String) {
        buffer.append(contentsOf: text.utf8)
    }

    /// `PathBytes.escape(bytes)`, byte for byte.
    mutating func append(escaped bytes: ArraySlice<UInt8>) {
        PathBytes.appendEscaped(bytes, to: &buffer)
    }

    /// `digest?.hex ?? "-"`.
    mutating func append(digest: Digest?) {
        guard let d = digest else {
            buffer.append(UInt8(ascii: "-"))
            return
        }
        let (a, b, c, e) = d.words
        appendHex(a)
        appendHex(b)
        appendHex(c)
        appendHex(e)
    }

    /// A big-endian word's 16 lowercase hex digits, appended at once.
    private mutating func appendHex(_ w: UInt64) {
        let digits = Self.lowerHex
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { out in
            for k in 0..<16 {
                out[k] = digits[Int((w >> UInt64(60 - 4 * k)) & 0xF)]
            }
            buffer.append(contentsOf: out)
        }
    }

    /// `mode?.octal ?? "-"`.
    mutating func append(mode: GitFileMode?) {
        guard let m = mode else {
            buffer.append(UInt8(ascii: "-"))
            return
        }
        switch m {
        case .tree: buffer.append(contentsOf: "40000".utf8)
        case .blob: buffer.append(contentsOf: "100644".utf8)
        case .executable: buffer.append(contentsOf: "100755".utf8)
        case .symlink: buffer.append(contentsOf: "120000".utf8)
        case .commit: buffer.append(contentsOf: "160000".utf8)
        }
    }

    /// Ends a line (`\n`); hands a full piece to the hasher.
    mutating func endLine() throws {
        buffer.append(0x0A)
        if buffer.count >= Self.flushAt { try flush() }
    }

    mutating func flush() throws {
        if buffer.isEmpty { return }
        try hasher.update(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// The digest of every byte appended; the hasher is reset for its next use.
    mutating func finish() throws -> Digest {
        try flush()
        return try hasher.finish()
    }
}
