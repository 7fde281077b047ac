import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `drift log`: every snapshot of the journal, newest first — time, drift id, paths, pip
/// changes, and whether (and on top of which export) it was exported. Reads only.
public enum SnapshotLog {
    /// One snapshot in `drift.log/1`.
    struct Item: Encodable {
        var commit: String
        var driftId: DriftID
        @RFC3339 var time: Date
        var host: String
        var entries: [SnapshotRecord.Entry]
        var pip: [PipChange]
        /// The export commit of this drift (`refs/drift-exports/<id>`), when exported.
        var exportCommit: String?
        /// The export that export follows (a follow-up), when it is one.
        var follows: DriftID?
        enum CodingKeys: String, CodingKey {
            case commit, time, host, entries, pip, follows
            case driftId = "drift_id"
            case exportCommit = "export_commit"
        }
    }

    struct Document: Encodable {
        var schema = "drift.log/1"
        var base: String
        var snapshots: [Item]
    }

    /// The journal's snapshots; empty when there is no journal yet.
    /// - Throws: `DriftError`/`GitError` when the journal exists but cannot be read.
    static func items(state: StateDirectory, manifestDir: ManifestDirectory, commit: String,
                      manifestCommit: String? = nil) throws -> [Item] {
        let journal = Journal(state: state, manifestDir: manifestDir, commit: commit)
        guard let repo = try journal.open(manifestCommit: manifestCommit ?? commit),
              let tip = try repo.reference(Journal.ref) else { return [] }
        return try JournalHistory.snapshots(repo, from: tip, base: commit).map { s in
            let record = SnapshotRecord(s.info)
            var item = Item(commit: s.commit.hex, driftId: s.info.id, time: s.info.time, host: s.info.host,
                            entries: record.entries, pip: s.info.pip)
            if let e = try repo.reference(Exporter.exportRef(s.info.id)) {
                item.exportCommit = e.hex
                if let p = try repo.parents(of: e).first, p.hex != commit {
                    item.follows = DriftTrailers(try repo.message(of: p)).id
                }
            }
            return item
        }
    }

    /// `drift log --format json`.
    public static func json(state: StateDirectory, manifestDir: ManifestDirectory) throws -> [UInt8] {
        let (manifest, _) = try manifestDir.load()
        let own = try StateArchive.owner(state) ?? manifest.commit
        let all = try items(state: state, manifestDir: manifestDir, commit: own, manifestCommit: manifest.commit)
        return try JSONCoding.encode(Document(base: own, snapshots: all))
    }

    /// A first line for a state of another base than the manifest's (an archive, or a state a
    /// redeploy kept that the next scan moves aside): whose journal this is.
    static func foreignLine(_ state: StateDirectory, own: String, manifestCommit: String) -> String {
        guard own != manifestCommit else { return "" }
        if let m = StateArchive.marker(state) {
            return "archived state of base commit \(own) (moved aside at \(m.archivedAt)); "
                + "the manifest is for \(manifestCommit)\n\n"
        }
        return "the state dir holds base commit \(own)'s journal; the manifest is for \(manifestCommit) "
            + "(the next drift scan moves it to \(PathBytes.display(state.file(StateArchive.directory)))/)\n\n"
    }

    /// `drift log`: one block a snapshot.
    public static func text(state: StateDirectory, manifestDir: ManifestDirectory) throws -> String {
        let (manifest, _) = try manifestDir.load()
        let own = try StateArchive.owner(state) ?? manifest.commit
        let all = try items(state: state, manifestDir: manifestDir, commit: own, manifestCommit: manifest.commit)
        var out = foreignLine(state, own: own, manifestCommit: manifest.commit)
        if all.isEmpty { return out + "no snapshots: the journal is empty (no drift recorded)\n" }
        for s in all {
            let n = s.entries.reduce(0) { $0 + ($1.count ?? 1) }
            out += "snapshot \(s.commit)\n  drift \(s.driftId)  \(Timestamp.format(s.time))  "
                + PathBytes.display(text: s.host)
            out += "  \(n) path\(n == 1 ? "" : "s")"
            if !s.pip.isEmpty { out += ", \(s.pip.count) pip change\(s.pip.count == 1 ? "" : "s")" }
            out += "\n"
            if let e = s.exportCommit {
                out += "  exported as commit \(e)" + (s.follows.map { " (follows \($0))" } ?? "") + "\n"
            }
            for e in s.entries {
                let name = e.pathBytes.flatMap { Data(base64Encoded: $0) }.map { PathBytes.display(Array($0)) }
                    ?? PathBytes.display(text: e.path)
                out += "    \(e.change.rawValue.padded(to: 9))\(e.fileClass.rawValue.padded(to: 7)) \(name)"
                switch e.recorded {
                case .content: out += "\n"
                case .summary: out += "  (summary of \(e.count ?? 0) files)\n"
                default: out += "  (\(e.recorded.rawValue))\n"
                }
            }
            for p in s.pip { out += "    pip " + SnapshotPip(p).humanLine.trimmingSpaces() + "\n" }
            out += "\n"
        }
        return out
    }
}
