import DriftSystem

/// Git bundles (v2), written and read here and nowhere else: libgit2 has neither a writer nor
/// a reader, and the format is a text header plus a pack — `# v2 git bundle`,
/// `-<prerequisite> <comment>` lines, `<id> <ref>` lines, a blank line, then the pack.
public enum GitBundle {
    public static func make(prerequisite: ObjectID, comment: String, tip: ObjectID, ref: String,
                            pack: [UInt8]) -> [UInt8] {
        var out = Array(signature.utf8) + [0x0A]
        out += Array("-\(prerequisite.hex) \(comment)\n".utf8)
        out += Array("\(tip.hex) \(ref)\n\n".utf8)
        return out + pack
    }

    /// The first line of a v2 bundle.
    static let signature = "# v2 git bundle"

    /// What a bundle's header says; the pack starts at `packOffset`.
    public struct Header: Sendable, Equatable {
        /// One ref the bundle carries: the commit and the ref's full name.
        public struct Ref: Sendable, Equatable {
            public var tip: ObjectID
            public var name: String
        }

        /// Commits the receiver must have (the `-<id>` lines), in header order.
        public var prerequisites: [ObjectID]
        public var refs: [Ref]
        /// Where `PACK` starts.
        public var packOffset: Int
    }

    /// Why bytes are not a v2 bundle (each case is one fact; the caller words it).
    public enum ReadError: Error, Equatable, Sendable {
        /// No blank line ends the header within its limits.
        case truncatedHeader
        /// A header line is not UTF-8 text.
        case headerNotText
        /// More header lines than the reader takes.
        case headerTooLong(maxLines: Int)
        /// The first line is not `# v2 git bundle`.
        case notVersion2
        /// A `-` line whose object id is not 40 hex digits (1-based header line).
        case badPrerequisite(line: Int)
        /// A ref line that is not `<40 hex> <ref name>` (1-based header line).
        case badRef(line: Int)
        /// Nothing that starts like a pack follows the header.
        case noPack
    }

    /// Reads a v2 bundle's header as git does: prerequisite lines (`-<id>`, optionally a space
    /// and a comment), ref lines (`<id> <name>`, the name holding no space), a blank line, then
    /// a pack (`PACK`, at least a pack header and trailer long). The pack itself is not read.
    /// - Parameters:
    ///   - bytes: the whole bundle.
    ///   - maxLines: header lines taken (the signature included) before `headerTooLong`.
    ///   - maxLineBytes: bytes one header line may have before `truncatedHeader`.
    /// - Throws: `ReadError` naming the first thing that is not a v2 bundle.
    public static func readHeader(_ bytes: [UInt8], maxLines: Int = 16, maxLineBytes: Int = 4096)
        throws(ReadError) -> Header {
        var pos = 0
        var lines: [String] = []
        while true {
            guard let nl = bytes[pos...].prefix(maxLineBytes).firstIndex(of: 0x0A) else {
                throw .truncatedHeader
            }
            let line = bytes[pos..<nl]
            pos = nl + 1
            if line.isEmpty { break }
            guard let s = String(validating: line, as: UTF8.self) else { throw .headerNotText }
            lines.append(s)
            if lines.count > maxLines { throw .headerTooLong(maxLines: maxLines) }
        }
        guard lines.first == signature else { throw .notVersion2 }
        var header = Header(prerequisites: [], refs: [], packOffset: pos)
        for (n, line) in lines.enumerated().dropFirst() {
            if line.hasPrefix("-") {
                let rest = line.dropFirst()
                let hex = rest.prefix(40)
                let tail = rest.dropFirst(40)
                guard let id = ObjectID(hex: String(hex)), tail.isEmpty || tail.hasPrefix(" ") else {
                    throw .badPrerequisite(line: n + 1)
                }
                header.prerequisites.append(id)
            } else {
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, let tip = ObjectID(hex: String(parts[0])), !parts[1].isEmpty else {
                    throw .badRef(line: n + 1)
                }
                header.refs.append(Header.Ref(tip: tip, name: String(parts[1])))
            }
        }
        // A pack is at least its 12-byte header and 20-byte trailer.
        guard bytes.count >= pos + 32, bytes[pos..<(pos + 4)].elementsEqual("PACK".utf8) else { throw .noPack }
        return header
    }
}
