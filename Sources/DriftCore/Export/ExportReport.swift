import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An export's `report.json`, schema `drift.export/1` (docs/report-format.md): the snapshot
/// the export was built from — its entries in the snapshot record's own form — with the
/// fields the gate reads (`files[].first_seen`, `withheld`, `drift_id_inputs`). One schema
/// whether the export scanned or read the journal alone: it always ships a snapshot.
struct ExportReport: Encodable {
    static let schemaName = "drift.export/1"

    var schema = ExportReport.schemaName
    /// The base commit.
    var commit: ObjectID
    var host: String
    /// The snapshot commit in the journal.
    var snapshot: ObjectID
    var driftId: DriftID
    @RFC3339 var recordedAt: Date
    var files: [SnapshotRecord.Entry]
    var pip: [PipChange]
    /// The export this one follows (absent for one on the base).
    var follows: DriftID?
    /// Code withheld from the patch, by path, change and reason (`[]` when none).
    var withheld: [WithheldCode]
    /// `DriftID.inputs` of the snapshot (absent for a record of older drift).
    var idInputs: [String]?

    enum CodingKeys: String, CodingKey {
        case schema, commit, host, snapshot, files, pip, follows, withheld
        case driftId = "drift_id"
        case recordedAt = "recorded_at"
        case idInputs = "drift_id_inputs"
    }

    init(_ info: SnapshotInfo, snapshot: ObjectID, host: String, follows: DriftID?) {
        commit = info.base
        self.host = host
        self.snapshot = snapshot
        driftId = info.id
        recordedAt = info.time
        files = info.entries.map(SnapshotRecord.Entry.init)
        pip = info.pip
        self.follows = follows
        withheld = WithheldCode.of(info.entries)
        idInputs = info.idInputs
    }
}
