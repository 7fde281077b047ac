import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A snapshot's machine-readable record, schema `drift.snapshot/1`, or `drift.snapshot/2` when
/// it summarises a directory (`SnapshotSummary`; a record without summaries stays `/1` byte
/// for byte, so older drift still reads it): the JSON note
/// `Journal.record` attaches to each snapshot commit (docs/journal.md). Export, status and
/// the journal itself read snapshots from it; the commit message is for people.
public struct SnapshotRecord: Codable, Sendable {
    var schema = SnapshotRecord.schemaName
    var driftId: DriftID
    public var base: ObjectID
    public var host: String
    @RFC3339 var time: Date
    public var entries: [Entry]
    var pip: [PipChange]
    /// `DriftID.inputs`: the lines the id hashes besides base and tree (absent in older records).
    var idInputs: [String]?

    static let schemaName = "drift.snapshot/1"
    /// The schema of a record with summary entries (`count`, `bytes`, `recorded: summary`).
    static let summarisedSchemaName = "drift.snapshot/2"

    /// One path: `recorded` is `content`, `secret`, `secret-content` or `hash-only`; a
    /// hash-only entry has `sha256` (absent: no content) and a `reason` unless its class
    /// says it (config, data). `path_bytes` (base64) is there when the name is not UTF-8.
    /// The one JSON form of a snapshot entry: the note's `entries` and report.json's `files`.
    /// A summary entry (`drift.snapshot/2`) has `recorded: summary`, the directory as its
    /// path (ending in `/`), `count` and `bytes` of its files and their content digest as `sha256`.
    public struct Entry: Codable, Sendable {
        var bytes: Int64?
        var change: ChangeKind
        var fileClass: FileClass
        @RFC3339 var firstSeen: Date
        var path: String
        var pathBytes: String?
        var recorded: SnapshotEntry.Recorded.Kind
        var sha256: String?
        var reason: String?
        var count: Int?

        init(_ e: SnapshotEntry) {
            let (p, pb) = ScanReport.pathFields(e.path)
            change = e.change
            fileClass = e.fileClass
            firstSeen = e.firstSeen
            path = p
            pathBytes = pb
            recorded = e.recorded.kind
            if case .hashOnly(let digest, let reason) = e.recorded {
                sha256 = digest?.hex
                self.reason = reason?.text
            }
            if case .summary(let s) = e.recorded {
                sha256 = s.digest.hex
                count = s.count
                bytes = s.bytes
            }
        }

        enum CodingKeys: String, CodingKey {
            case bytes, change, count, path, recorded, sha256, reason
            case fileClass = "class"
            case firstSeen = "first_seen"
            case pathBytes = "path_bytes"
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, base, host, time, entries, pip
        case driftId = "drift_id"
        case idInputs = "drift_id_inputs"
    }

    public init(_ info: SnapshotInfo) {
        driftId = info.id
        base = info.base
        host = info.host
        time = info.time
        pip = info.pip
        idInputs = info.idInputs
        entries = info.entries.map(Entry.init)
        if info.entries.contains(where: \.isSummary) { schema = Self.summarisedSchemaName }
    }

    /// The record as drift writes it (sorted keys, one field a line).
    func encoded() throws -> [UInt8] { try JSONCoding.encode(self) }

    /// Reads a record back into the snapshot it records; anything else is an error naming
    /// `context`.
    static func decode(_ bytes: [UInt8], context: String) throws -> SnapshotInfo {
        func bad(_ why: String) -> DriftError { DriftError(.stateDamaged, "\(context): snapshot record \(why)") }
        let r: SnapshotRecord
        do { r = try JSONDecoder().decode(SnapshotRecord.self, from: Data(bytes)) } catch {
            if let e = DriftID.malformed(in: error) {
                throw DriftError(.malformedID, "\(context): snapshot record: \(e.reason)", underlying: e)
            }
            throw bad("is not \(schemaName) JSON")
        }
        guard r.schema == schemaName || r.schema == summarisedSchemaName else {
            throw bad("has schema \(PathBytes.display(text: r.schema))")
        }
        let entries = try r.entries.map { try $0.entry(bad) }
        var info = SnapshotInfo(id: r.driftId, host: r.host, time: r.time, entries: entries, pip: r.pip, base: r.base)
        info.idInputs = r.idInputs
        return info
    }
}

extension SnapshotRecord.Entry {
    /// The typed entry; throws `bad(why)` for a field that cannot be one.
    func entry(_ bad: (String) -> DriftError) throws -> SnapshotEntry {
        let bytes: [UInt8]
        if let pb = pathBytes {
            guard let d = Data(base64Encoded: pb) else { throw bad("has bad path_bytes") }
            bytes = Array(d)
        } else {
            bytes = Array(path.utf8)
        }
        let rec: SnapshotEntry.Recorded
        switch recorded {
        case .content:
            rec = .content
        case .secret:
            rec = .secret
        case .secretContent:
            rec = .secretContent
        case .hashOnly:
            let digest = try sha256.map { h in
                guard let d = Digest(hex: h) else { throw bad("has a bad sha256") }
                return d
            }
            rec = .hashOnly(digest, reason.map(WithholdReason.init(text:)))
        case .summary:
            guard let n = count, n > 0, let b = self.bytes, b >= 0, let d = sha256.flatMap(Digest.init(hex:)),
                  bytes.last == 0x2F else { throw bad("has a bad summary entry") }
            rec = .summary(SnapshotSummary(count: n, bytes: b, digest: d))
        }
        return SnapshotEntry(change: change, fileClass: fileClass, firstSeen: firstSeen, path: bytes, recorded: rec)
    }
}
