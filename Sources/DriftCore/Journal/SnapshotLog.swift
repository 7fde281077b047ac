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
        var out: [Item] = []
        try forEachItem(state: state, manifestDir: manifestDir, commit: commit, manifestCommit: manifestCommit) {
            out.append($0)
        }
        return out
    }

    /// The journal's snapshots one at a time, newest first (none when there is no journal yet).
    static func forEachItem(state: StateDirectory, manifestDir: ManifestDirectory, commit: String,
                            manifestCommit: String? = nil, _ body: (Item) throws -> Void) throws {
        let journal = Journal(state: state, manifestDir: manifestDir, commit: commit)
        guard let repo = try journal.open(manifestCommit: manifestCommit ?? commit),
              let tip = try repo.reference(Journal.ref) else { return }
        try JournalHistory.forEach(repo, from: tip, base: commit) { id, info in
            let record = SnapshotRecord(info)
            var item = Item(commit: id.hex, driftId: info.id, time: info.time, host: info.host,
                            entries: record.entries, pip: info.pip)
            if let e = try repo.reference(Exporter.exportRef(info.id)) {
                item.exportCommit = e.hex
                if let p = try repo.parents(of: e).first, p.hex != commit {
                    item.follows = DriftTrailers(try repo.message(of: p)).id
                }
            }
            try body(item)
        }
    }

    /// `drift log --format json`.
    public static func json(state: StateDirectory, manifestDir: ManifestDirectory) throws -> [UInt8] {
        var out: [UInt8] = []
        try json(state: state, manifestDir: manifestDir) { out += $0 }
        return out
    }

    /// `drift log --format json` written a snapshot at a time: the bytes of one document encoded
    /// whole (`JSONCoding`, pretty), with one snapshot in memory instead of all of them (incident
    /// 12, F15: 1.58 GB RSS for 171 snapshots of up to 50,000 paths).
    public static func json(state: StateDirectory, manifestDir: ManifestDirectory,
                            to emit: ([UInt8]) -> Void) throws {
        let (manifest, _) = try manifestDir.load()
        let own = try StateArchive.owner(state) ?? manifest.commit
        // The document around the snapshots, as the encoder writes it with none.
        let empty = try JSONCoding.encode(Document(base: own, snapshots: []))
        let open = Array("\"snapshots\" : [".utf8)
        guard let at = Self.range(of: open, in: empty) else {
            throw DriftError(.internal, "internal: no snapshots array in the log document")
        }
        var count = 0
        try forEachItem(state: state, manifestDir: manifestDir, commit: own, manifestCommit: manifest.commit) { item in
            var chunk: [UInt8] = count == 0 ? Array(empty[..<at.upperBound]) + [0x0A] : [0x2C, 0x0A]
            // Encoded alone it is indented two levels less than inside the document (an empty
            // line, if the encoder writes one, stays empty).
            for b in try JSONCoding.encode(item).dropLast() {
                if chunk.last == 0x0A && b != 0x0A { chunk += [0x20, 0x20, 0x20, 0x20] }
                chunk.append(b)
            }
            count += 1
            emit(chunk)
        }
        emit(count == 0 ? empty : Array("\n  ]\n}\n".utf8))
    }

    private static func range(of needle: [UInt8], in hay: [UInt8]) -> Range<Int>? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i..<(i + needle.count)].elementsEqual(needle) {
            return i..<(i + needle.count)
        }
        return nil
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
        var out = ""
        try text(state: state, manifestDir: manifestDir) { out += $0 }
        return out
    }

    /// `drift log` written a block at a time (one snapshot in memory, not all of them).
    public static func text(state: StateDirectory, manifestDir: ManifestDirectory,
                            to emit: (String) -> Void) throws {
        let (manifest, _) = try manifestDir.load()
        let own = try StateArchive.owner(state) ?? manifest.commit
        emit(foreignLine(state, own: own, manifestCommit: manifest.commit))
        var any = false
        try forEachItem(state: state, manifestDir: manifestDir, commit: own, manifestCommit: manifest.commit) { s in
            any = true
            emit(block(s))
        }
        if !any { emit("no snapshots: the journal is empty (no drift recorded)\n") }
    }

    private static func block(_ s: Item) -> String {
        var out = ""
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
        return out
    }
}
