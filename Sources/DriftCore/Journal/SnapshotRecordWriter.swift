import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes a snapshot record's two per-path arrays (`entries`, `drift_id_inputs`) straight to
/// bytes, byte for byte what `JSONCoding.encode` writes for them: with a million drifted
/// paths the generic encoder's boxing of every field was the largest cost of a watch batch
/// (docs/benchmarks.md, issue 28). The rest of the record (host, pip, times) still goes
/// through `JSONCoding`, with the two arrays spliced in. `SnapshotRecordWriterTests` holds
/// the output to `JSONCoding.encode`'s for every field shape.
enum SnapshotRecordWriter {
    /// The record as `JSONCoding.encode(SnapshotRecord(info))` writes it.
    static func encode(_ info: SnapshotInfo) throws -> [UInt8] {
        var bare = info
        bare.entries = []
        if bare.idInputs != nil { bare.idInputs = [] }
        var shellRecord = SnapshotRecord(bare)
        if info.entries.contains(where: \.isSummary) { shellRecord.schema = SnapshotRecord.summarisedSchemaName }
        let shell = try JSONCoding.encode(shellRecord)
        // Raw newlines are structural only (JSON escapes them inside strings), so a newline,
        // two spaces and a key is a top-level key: each pattern occurs once, inputs first
        // (keys are sorted). Both are found in the small shell, then filled in one pass.
        var fills: [(Range<Int>, [UInt8])] = []
        if let inputs = info.idInputs, !inputs.isEmpty {
            fills.append((try emptyArray("drift_id_inputs", in: shell), strings(inputs)))
        }
        if !info.entries.isEmpty {
            fills.append((try emptyArray("entries", in: shell), entries(info.entries)))
        }
        var out = [UInt8]()
        out.reserveCapacity(shell.count + fills.reduce(0) { $0 + $1.1.count })
        var at = 0
        for (range, array) in fills {
            out += shell[at..<range.lowerBound]
            out += array
            at = range.upperBound
        }
        out += shell[at...]
        return out
    }

    /// Where the empty array of top-level `key` is in `json` (from its `[` to its `]`).
    private static func emptyArray(_ key: String, in json: [UInt8]) throws -> Range<Int> {
        let pattern = Array("\n  \"\(key)\" : [\n\n  ]".utf8)
        let prefix = pattern.count - 6
        var i = 0
        while i + pattern.count <= json.count {
            if json[i] == 0x0A && json[i..<(i + pattern.count)].elementsEqual(pattern) {
                return (i + prefix)..<(i + pattern.count)
            }
            i += 1
        }
        throw DriftError(.internal, "internal: snapshot record has no empty \(key) array to fill")
    }

    /// A JSON array of strings at depth 1.
    private static func strings(_ lines: [String]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(lines.count * 96)
        out += Array("[\n".utf8)
        for (k, line) in lines.enumerated() {
            if k > 0 { out += [0x2C, 0x0A] }
            out += [0x20, 0x20, 0x20, 0x20]
            appendString(line, to: &out)
        }
        out += Array("\n  ]".utf8)
        return out
    }

    /// The `entries` array at depth 1, keys sorted as `JSONCoding` sorts them.
    private static func entries(_ entries: [SnapshotEntry]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(entries.count * 200)
        out += Array("[\n".utf8)
        // Most entries share a first-seen time (one scan saw them): formatted once.
        var lastSeen: (Date, String)?
        for (k, e) in entries.enumerated() {
            if k > 0 { out += [0x2C, 0x0A] }
            out += Array("    {\n".utf8)
            var summary: SnapshotSummary?
            if case .summary(let s) = e.recorded { summary = s }
            if let summary { number("bytes", summary.bytes, to: &out) }
            field("change", e.change.rawValue, to: &out)
            field("class", e.fileClass.rawValue, to: &out)
            if let summary { number("count", Int64(summary.count), to: &out) }
            let seen: String
            if let l = lastSeen, l.0 == e.firstSeen {
                seen = l.1
            } else {
                seen = Timestamp.format(e.firstSeen)
                lastSeen = (e.firstSeen, seen)
            }
            field("first_seen", seen, to: &out)
            let (path, pathBytes) = ScanReport.pathFields(e.path)
            field("path", path, to: &out)
            if let pathBytes { field("path_bytes", pathBytes, to: &out) }
            var sha256: String?
            if case .hashOnly(let digest, let reason) = e.recorded {
                sha256 = digest?.hex
                if let reason { field("reason", reason.text, to: &out) }
            }
            if let summary { sha256 = summary.digest.hex }
            field("recorded", e.recorded.kind.rawValue, to: &out, last: sha256 == nil)
            if let sha256 { field("sha256", sha256, to: &out, last: true) }
            out += Array("    }".utf8)
        }
        out += Array("\n  ]".utf8)
        return out
    }

    /// `"key" : number,` at depth 3 and a newline (never last: `recorded` follows).
    private static func number(_ key: StaticString, _ value: Int64, to out: inout [UInt8]) {
        out += [0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x22]
        out += UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        out += [0x22, 0x20, 0x3A, 0x20]
        out += Array(String(value).utf8)
        out += [0x2C, 0x0A]
    }

    /// `"key" : "value"` at depth 3, then `,` unless `last`, and a newline.
    private static func field(_ key: StaticString, _ value: String, to out: inout [UInt8], last: Bool = false) {
        out += [0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x22]
        out += UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        out += [0x22, 0x20, 0x3A, 0x20]
        appendString(value, to: &out)
        if !last { out.append(0x2C) }
        out.append(0x0A)
    }

    /// A JSON string as `JSONCoding` writes it: `"` and `\` escaped, C0 controls as `\b`,
    /// `\f`, `\n`, `\r`, `\t` or `\u00xx`, DEL and C1 controls as `\u00xx`, `/` and the rest raw.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        let hex = Array("0123456789abcdef".utf8)
        var afterC2 = false
        for b in s.utf8 {
            if afterC2 {
                afterC2 = false
                if (0x80...0x9F).contains(b) {
                    out += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
                } else {
                    out += [0xC2, b]
                }
                continue
            }
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0x08: out += [0x5C, 0x62]
            case 0x0C: out += [0x5C, 0x66]
            case 0x00..<0x20, 0x7F: out += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            case 0xC2: afterC2 = true
            default: out.append(b)
            }
        }
        if afterC2 { out.append(0xC2) }
        out.append(0x22)
    }
}

extension SnapshotRecord {
    /// The `drift_id` a record drift wrote names, read from its first lines without decoding
    /// the rest (one entry a drifted path); nil when the record does not start the way drift
    /// writes it. Only ever used to learn that the latest snapshot is *another* drift state:
    /// an equal id is confirmed by decoding the whole record, so a record that misleads this
    /// costs one more snapshot, never a missed one.
    static func peekDriftID(_ bytes: [UInt8]) -> DriftID? {
        let head = Array("{\n  \"base\" : \"".utf8)
        let mid = Array("\",\n  \"drift_id\" : \"".utf8)
        guard bytes.count > head.count + 40 + mid.count, bytes.starts(with: head) else { return nil }
        let afterBase = head.count + 40
        guard bytes[head.count..<afterBase].allSatisfy(Self.isHexDigit),
              bytes[afterBase...].starts(with: mid) else { return nil }
        let idStart = afterBase + mid.count
        guard let close = bytes[idStart...].prefix(65).firstIndex(of: 0x22) else { return nil }
        return DriftID(String(decoding: bytes[idStart..<close], as: UTF8.self))
    }

    private static func isHexDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x66).contains(b) }
}
