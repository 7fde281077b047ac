import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The scan's JSON report written out a row at a time, byte for byte what
/// `JSONCoding.encode(report)` writes: the generic encoder holds every row's boxed fields and
/// the whole text at once (a million drifted paths: ~430 MB at 200,000, issue 28). The rest of
/// the report still goes through `JSONCoding`, with the `files` rows spliced in, as
/// `SnapshotRecordWriter` does; `ReportMemoryTests` holds the output to `JSONCoding.encode`'s.
public enum ReportJSON {
    /// Hands the report's JSON to `emit` in pieces of about 64 KiB.
    public static func write(_ r: ScanReport, emit: ([UInt8]) -> Void) throws {
        var bare = r
        bare.rows = ScanReport.Rows([])
        let shell = try JSONCoding.encode(bare)
        let rows = r.rows
        if rows.isEmpty {
            emit(shell)
            return
        }
        // A newline, two spaces and a key is a top-level key (JSON escapes newlines in strings).
        let pattern = Array("\n  \"files\" : [\n\n  ]".utf8)
        guard let at = find(pattern, in: shell) else {
            throw DriftError(.internal, "internal: scan report has no empty files array to fill")
        }
        var out = Array(shell[..<(at + pattern.count - 6)])
        out += Array("[\n".utf8)
        var times = TimestampRun()
        for k in 0..<rows.count {
            if k > 0 { out += [0x2C, 0x0A] }
            row(rows.row(k, times: &times), to: &out)
            if out.count > 1 << 16 {
                emit(out)
                out = []
            }
        }
        out += Array("\n  ]".utf8)
        out += shell[(at + pattern.count)...]
        emit(out)
    }

    private static func find(_ pattern: [UInt8], in json: [UInt8]) -> Int? {
        var i = 0
        while i + pattern.count <= json.count {
            if json[i] == 0x0A && json[i..<(i + pattern.count)].elementsEqual(pattern) { return i }
            i += 1
        }
        return nil
    }

    /// One row at depth 2, its keys in `JSONCoding`'s sorted order.
    static func row(_ f: ScanReport.File, to out: inout [UInt8]) {
        out += Array("    {\n".utf8)
        var fields = Fields()
        fields.string("change", f.change.rawValue, &out)
        fields.string("class", f.fileClass.rawValue, &out)
        fields.string("clock_started", f.clockStarted, &out)
        fields.string("export_id", f.exportId, &out)
        fields.string("export_id_at", f.exportIdAt, &out)
        fields.bool("export_withheld", f.exportWithheld, &out)
        fields.string("exported_at", f.exportedAt, &out)
        fields.string("first_seen", f.firstSeen, &out)
        if let flags = f.flags {
            fields.key("flags", &out)
            out += Array("[\n".utf8)
            for (k, flag) in flags.enumerated() {
                if k > 0 { out += [0x2C, 0x0A] }
                out += [UInt8](repeating: 0x20, count: 8)
                SnapshotRecordWriter.appendString(flag, to: &out)
            }
            out += Array("\n      ]".utf8)
        }
        fields.string("new_mode", f.newMode, &out)
        fields.string("new_sha256", f.newSHA256?.hex, &out)
        fields.number("new_size", f.newSize, &out)
        fields.string("new_target", f.newTarget, &out)
        fields.string("new_type", f.newType?.rawValue, &out)
        fields.string("old_mode", f.oldMode, &out)
        fields.string("old_sha256", f.oldSHA256?.hex, &out)
        fields.number("old_size", f.oldSize, &out)
        fields.string("old_target", f.oldTarget, &out)
        fields.string("old_type", f.oldType?.rawValue, &out)
        fields.bool("overdue", f.overdue, &out)
        fields.string("path", f.path, &out)
        fields.string("path_bytes", f.pathBytes, &out)
        fields.string("pushed_at", f.pushedAt, &out)
        fields.string("reconciled_in", f.reconciledIn, &out)
        fields.bool("secret", f.secret, &out)
        fields.bool("unstable", f.unstable, &out)
        out += Array("\n    }".utf8)
    }

    /// Writes `"key" : value` at depth 3, a comma and newline before each but the first.
    private struct Fields {
        var first = true

        mutating func key(_ key: StaticString, _ out: inout [UInt8]) {
            if !first { out += [0x2C, 0x0A] }
            first = false
            out += [0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x22]
            out += UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            out += [0x22, 0x20, 0x3A, 0x20]
        }

        mutating func string(_ k: StaticString, _ value: String?, _ out: inout [UInt8]) {
            guard let value else { return }
            key(k, &out)
            SnapshotRecordWriter.appendString(value, to: &out)
        }

        mutating func number(_ k: StaticString, _ value: Int64?, _ out: inout [UInt8]) {
            guard let value else { return }
            key(k, &out)
            out += Array(String(value).utf8)
        }

        mutating func bool(_ k: StaticString, _ value: Bool?, _ out: inout [UInt8]) {
            guard let value else { return }
            key(k, &out)
            out += Array((value ? "true" : "false").utf8)
        }
    }
}
