import DriftGit
import DriftSystem

/// A follow-up must not take back what its chain carries (docs/journal.md, "Withheld paths
/// in a follow-up"). The snapshot's tree holds a withheld path at the base's version (its
/// Drift-Id is bound to that tree, and the gate recomputes the id from the export's tree),
/// so a follow-up built from it would diff the chain's version of that path back to the
/// base: `git am` of the chain would silently revert the hotfix. Such an export is refused.
extension Exporter {
    /// The most paths the refusal names; the rest are counted.
    static let revertListLimit = 10

    /// Throws when one of `info`'s withheld paths is among what the follow-up changes on top
    /// of the export it follows (`changes`, by path): the chain carries a version of it.
    /// `cause`: why the scan withheld every drifted file (`DriftState.withholding`), named
    /// instead of the generic advice (incident 12, F11).
    static func refuseWithheldRevert(_ info: SnapshotInfo, follows: DriftID,
                                     _ changes: [[UInt8]: GitTreeChange], cause: String? = nil) throws {
        let taken = info.entries.filter { e in
            if case .content = e.recorded { return false }
            if case .summary = e.recorded { return false }
            return changes[e.path] != nil
        }
        guard !taken.isEmpty else { return }
        let shown = taken.prefix(revertListLimit).map { "\(PathBytes.display($0.path)) (\(Self.why($0)))" }
        let more = taken.count > revertListLimit ? ", and \(taken.count - revertListLimit) more" : ""
        let secret = taken.contains { e in
            switch e.recorded {
            case .secret, .secretContent: return true
            default: return false
            }
        }
        let n = taken.count
        let remedy = cause.map { "every drifted file is withheld: \($0)" }
            ?? "drift scan says why; a secret value drift remembers from a file that changed or is gone: "
            + "drift forget --release NAME"
        throw DriftError(secret ? .secretWithheld : .unreadable,
            "export \(info.id): a follow-up of export \(follows) would take back what that chain carries at "
            + "\(n) path\(n == 1 ? "" : "s") whose content is withheld now: \(shown.joined(separator: ", "))\(more); "
            + "nothing was exported. Remove what withholds them (\(remedy)) and export again, "
            + "or export --cumulative (one commit on the base that lists them as withheld)")
    }

    /// Why an entry's content is withheld, in the words of its export message line.
    private static func why(_ e: SnapshotEntry) -> String {
        switch e.recorded {
        case .secret: return "secret"
        case .secretContent: return "secret content, or secret files drift could not read to check it"
        case .hashOnly(_, let reason): return reason?.text ?? e.fileClass.rawValue
        case .content, .summary: return "withheld"
        }
    }
}
