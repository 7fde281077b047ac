import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the gate reads from an export's report.json (either report schema, docs/gate.md):
/// the earliest `first_seen`, the `withheld` code list and the id's inputs
/// (`drift_id_inputs`). Absent fields are empty (older exports); anything that is not such
/// JSON is a failed check: the ledger is untrusted input.
struct ExportReportFields {
    var firstSeen: Date?
    var withheld: [WithheldCode] = []
    var idInputs: [String] = []

    private struct File: Decodable {
        let firstSeen: String?
        enum CodingKeys: String, CodingKey { case firstSeen = "first_seen" }
        init(from d: Decoder) throws {
            let c = try d.container(keyedBy: CodingKeys.self)
            firstSeen = try c.decodeIfPresent(String.self, forKey: .firstSeen)
        }
    }

    private struct Report: Decodable {
        let files: [File]
        let withheld: [WithheldCode]?
        let idInputs: [String]?
        enum CodingKeys: String, CodingKey {
            case files, withheld
            case idInputs = "drift_id_inputs"
        }
    }

    static func read(_ bytes: [UInt8]) throws -> ExportReportFields {
        let report: Report
        do { report = try JSONDecoder().decode(Report.self, from: Data(bytes)) } catch {
            throw DriftError(.ledgerInvalid, "report.json is not an export report")
        }
        return ExportReportFields(firstSeen: report.files.compactMap { $0.firstSeen.flatMap(Timestamp.parse) }.min(),
                                  withheld: report.withheld ?? [], idInputs: report.idInputs ?? [])
    }
}
