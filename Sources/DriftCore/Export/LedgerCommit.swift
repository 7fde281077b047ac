import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The *ledger commit*: what `drift push` sends to `refs/drift/<host>/<id>`.
///
/// A parentless commit whose tree holds the export's files as blobs — `drift.patch`,
/// `drift.bundle`, `report.json` (the names `drift export` writes to ODIR) — and whose
/// message ends in a `Drift-Ledger: 1` trailer. Having no parent, its push needs no history:
/// the pack is those five objects, whatever the remote's branches hold. A hotfix author
/// reads it with `git show refs/drift/<host>/<id>:drift.patch | git am`, and
/// `drift gate --ledger-refs` judges it exactly as `--ledger` judges an export directory.
public enum LedgerCommit {
    /// The format marker (a trailer of the message).
    static let marker = "Drift-Ledger: 1"

    /// Where the journal keeps the ledger commit of export `id`.
    static func journalRef(_ id: DriftID) -> String { journalRefPrefix + id.hex }
    /// The namespace of `journalRef`.
    static let journalRefPrefix = "refs/drift-ledger/"

    /// The export's files, in the order they appear in the tree.
    static var fileNames: [String] {
        [Exporter.bundleFile, Exporter.patchFile, Exporter.pipFreezeFile, Exporter.reportFile]
    }

    /// Writes the ledger commit of an export into `repo` and points `journalRef(id)` at it.
    @discardableResult
    public static func create(in repo: GitRepository, id: DriftID, host: String, base: String,
                              files: [(String, [UInt8])], author: GitPerson, setRef: Bool = true) throws -> ObjectID {
        let entries = try files.map { name, bytes in
            GitRepository.TreeEntryInput(name: Array(name.utf8), mode: .blob, id: try repo.writeBlob(bytes))
        }
        let treeID = try repo.writeTree(entries)
        let message = "drift ledger: export \(id) from \(host)\n\nbase \(base)\n\n\(marker)\n"
        let commit = try repo.createCommit(tree: treeID, parents: [], author: author, committer: author,
                                           message: message)
        if setRef { try repo.setReference(journalRef(id), to: commit) }
        return commit
    }

    /// Whether a commit message is a ledger commit's: `Drift-Ledger: 1` in its trailer block.
    static func isLedger(message: String) -> Bool {
        DriftTrailers(message).trailers.values("Drift-Ledger").contains("1")
    }
}
