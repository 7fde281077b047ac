import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A state dir of another base commit — a redeploy that kept the state volume, as the docs
/// advise — is moved aside whole by the first run that holds the state lock with the new
/// manifest: `SDIR/previous/<old base>-<time>/` keeps `state.json`, the journal with its
/// exports and ledger commits, the caches and failure records, and the run goes on clean
/// (docs/state.md, "A new base commit"). Nothing is restored when the base comes back.
public enum StateArchive {
    /// The directory under SDIR that holds archived states.
    static let directory = "previous"
    /// An archive's own record (`drift.archive/1`): whose state it is and when it moved.
    static let markerName = "archived.json"
    /// Left in place: the lock files and what a running watcher owns (its socket and status).
    static let kept: Set<[UInt8]> = Set([directory, "lock", "watch.lock", "watch.json", "watch.sock"]
        .map { Array($0.utf8) })
    private static let partialSuffix = ".partial"

    struct Marker: Codable {
        var schema = "drift.archive/1"
        var base: String
        var archivedAt: String
        var newBase: String
        enum CodingKeys: String, CodingKey {
            case schema, base
            case archivedAt = "archived_at"
            case newBase = "new_base"
        }
    }

    /// The `commit` field alone of `state.json`.
    private struct Head: Decodable { var commit: String }

    /// The base commit the state dir's content belongs to: `state.json`'s, or, when there is
    /// none or it does not decode, the one the journal's `shallow` file names. nil: no state yet.
    /// - Throws: `DriftError` when `state.json` is there but cannot be read (permissions, I/O).
    public static func owner(_ state: StateDirectory) throws -> String? {
        let f = state.file("state.json")
        if !FileSystem.isAbsent(f) {
            let bytes = try readWholeFile(f, limit: StateDirectory.stateReadLimit, followSymlinks: false)
            do { return try JSONDecoder().decode(Head.self, from: Data(bytes)).commit } catch {
                // A damaged state.json: the journal says whose drift it recorded.
            }
        }
        return journalOwner(state)
    }

    /// The base commit the journal's `shallow` file names (written on every open).
    static func journalOwner(_ state: StateDirectory) -> String? {
        let shallow = state.file("journal.git").appending(text: "/shallow")
        guard !FileSystem.isAbsent(shallow),
              case .success(let bytes) = Result(catching: { try readWholeFile(shallow, limit: 4096) }) else {
            return nil
        }
        let line = String(decoding: bytes.prefix { $0 != 0x0A }, as: UTF8.self)
        return ObjectID(hex: line) == nil ? nil : line
    }

    /// Whether `state` is an archive: it has an `archived.json`, readable or not.
    static func isArchive(_ state: StateDirectory) -> Bool { !FileSystem.isAbsent(state.file(markerName)) }

    /// The archive's record when `state` is an archive (its `archived.json`) and it decodes.
    static func marker(_ state: StateDirectory) -> Marker? {
        let f = state.file(markerName)
        guard isArchive(state) else { return nil }
        do {
            return try JSONDecoder().decode(Marker.self, from: Data(try readWholeFile(f, limit: 1 << 16)))
        } catch {
            // Damaged: still an archive (`isArchive`), told without its details.
            return nil
        }
    }

    /// The refusal for a verb that needs the manifest's base on a state of another one.
    static func refusal(_ state: StateDirectory, owner: String, commit: String) -> DriftError {
        if isArchive(state) {
            let m = marker(state)
            let when = m.map { ", moved aside at \($0.archivedAt) when base \($0.newBase) came" } ?? ""
            return DriftError(.stateDamaged, path: state.path, "this is the archived state of base commit "
                + "\(m?.base ?? owner)\(when); the manifest is for \(commit): drift push, log and status read it as "
                + "it is (docs/state.md, \"A new base commit\")")
        }
        return DriftError(.stateDamaged, path: state.path, "state dir belongs to base commit \(owner), but the "
            + "manifest is for \(commit); the next drift scan or watch moves it to "
            + "\(PathBytes.display(state.file(directory)))/ and starts clean (docs/state.md, \"A new base commit\")")
    }

    /// Under the state lock: finishes a move a killed run left half done (`.partial`).
    static func finishPartial(_ state: StateDirectory, commit: String) throws {
        let prev = state.file(directory)
        guard !FileSystem.isAbsent(prev), let names = directoryEntries(prev) else { return }
        for n in names where n.hasSuffix(text: partialSuffix) && n.first == UInt8(ascii: ".") {
            let partial = PathBytes.join(prev, n)
            try moveEntries(of: state, into: partial)
            let moved = StateDirectory(path: partial)
            if marker(moved) == nil {
                let m = Marker(base: try owner(moved) ?? "unknown", archivedAt: Timestamp.format(Date()),
                               newBase: commit)
                try AtomicFile.write(try JSONCoding.encode(m), to: moved.file(markerName), mode: 0o600)
            }
            let final = PathBytes.join(prev, Array(n.dropFirst().dropLast(partialSuffix.utf8.count)))
            try rename(partial, final)
            AtomicFile.syncDirectory(of: prev)
            Output.stderr("drift: note: \(state.shown): finished moving an earlier base's state to "
                + "\(PathBytes.display(final)) (a run was stopped while it moved it)\n")
        }
    }

    /// Under the state lock: moves the state of base `owner` to `SDIR/previous/<owner>-<time>/`
    /// (each entry renamed into a `.partial` directory, `state.json` last, then that renamed:
    /// a killed run's half move is finished by the next locked run) and says so once on stderr.
    /// - Returns: the archive's path.
    /// - Parameter pushed: the state's `pushed` (ids by remote) as loaded; nil when state.json
    ///   was absent or damaged (nothing is known pushed).
    @discardableResult
    static func archive(_ state: StateDirectory, owner: String, commit: String, now: Date,
                        pushed: [String: [String]]? = nil) throws -> [UInt8] {
        let prev = state.file(directory)
        try AtomicFile.makeDirectory(prev, mode: 0o700)
        let stamp = Timestamp.format(now).filter { $0 != "-" && $0 != ":" }
        var name = "\(owner)-\(stamp)"
        var n = 1
        while !FileSystem.isAbsent(PathBytes.join(prev, Array(name.utf8)))
                || !FileSystem.isAbsent(PathBytes.join(prev, Array(".\(name)\(partialSuffix)".utf8))) {
            n += 1
            name = "\(owner)-\(stamp)-\(n)"
        }
        let partial = PathBytes.join(prev, Array(".\(name)\(partialSuffix)".utf8))
        let unpushed = unpushedCount(state, pushed: pushed)
        try AtomicFile.makeDirectory(partial, mode: 0o700)
        let marker = Marker(base: owner, archivedAt: Timestamp.format(now), newBase: commit)
        try AtomicFile.write(try JSONCoding.encode(marker), to: PathBytes.join(partial, Array(markerName.utf8)),
                             mode: 0o600)
        try moveEntries(of: state, into: partial)
        let final = PathBytes.join(prev, Array(name.utf8))
        try rename(partial, final)
        AtomicFile.syncDirectory(of: prev)
        AtomicFile.syncDirectory(of: state.path)
        Output.stderr("drift: note: \(state.shown): its state (journal, exports, ledger, first sightings) is of "
            + "base commit \(owner), the manifest is for \(commit): moved it whole to \(PathBytes.display(final)) "
            + "and starting clean; \(pushAdvice(unpushed, archive: final))\n")
        return final
    }

    /// What the archive note says about pushing: only exports the state does not record as
    /// pushed to every remote it knows are owed (`drift push` sends exactly those).
    static func pushAdvice(_ unpushed: (owed: Int, exports: Int)?, archive: [UInt8]) -> String {
        let command = "drift push REMOTE --state \(PathBytes.display(archive))"
        guard let u = unpushed else { return "exports not pushed yet: \(command)" }
        if u.exports == 0 { return "it holds no export" }
        if u.owed == 0 { return "every export was pushed (\(u.exports))" }
        return "\(u.owed) export\(u.owed == 1 ? "" : "s") not pushed yet: \(command)"
    }

    /// The journal's exports (its ledger refs) and how many of them some remote of `pushed`
    /// lacks (with no remote: all of them); nil when the journal cannot be read.
    static func unpushedCount(_ state: StateDirectory, pushed: [String: [String]]?) -> (owed: Int, exports: Int)? {
        let journal = state.file("journal.git")
        if FileSystem.isAbsent(journal) { return (0, 0) }
        let names: [String]
        do {
            names = try GitRepository(path: journal).referenceTargets(under: LedgerCommit.journalRefPrefix).map(\.name)
        } catch {
            return nil
        }
        let ids = names.map { String($0.dropFirst(LedgerCommit.journalRefPrefix.count)) }
        // One remote however it is spelled (as `drift push` counts it).
        var byRemote: [String: Set<String>] = [:]
        for (k, sent) in pushed ?? [:] {
            byRemote[RemoteKey.identity(RemoteKey.key(k)), default: []].formUnion(sent)
        }
        let owed = ids.filter { id in byRemote.isEmpty || byRemote.values.contains { !$0.contains(id) } }
        return (owed.count, ids.count)
    }

    /// Renames every entry of the state dir but `kept` into `target`, `state.json` last; the
    /// journal moved is made to stand alone (`standAlone`).
    private static func moveEntries(of state: StateDirectory, into target: [UInt8]) throws {
        // Unlistable, nothing would move and an empty archive would stand for the state.
        guard let all = directoryEntries(state.path) else {
            throw DriftError(.io, path: state.path, "cannot list the state dir to move it aside")
        }
        let names = all.filter { !kept.contains($0) && !$0.contains(text: ".tmp.") }
        let stateJSON = Array("state.json".utf8)
        for n in names.filter({ $0 != stateJSON }) + names.filter({ $0 == stateJSON }) {
            try rename(PathBytes.join(state.path, n), PathBytes.join(target, n))
        }
        standAlone(journal: PathBytes.join(target, Array("journal.git".utf8)))
    }

    /// An archived journal borrows nothing: its `alternates` named the MDIR of the base it no
    /// longer matches (readers skip the old base's objects, which are gone with its image).
    private static func standAlone(journal: [UInt8]) {
        let alternates = journal.appending(text: "/objects/info/alternates")
        guard !FileSystem.isAbsent(alternates) else { return }
        do { try FileSystem.unlink(alternates) } catch {
            // Left, it is harmless: readers of another base's journal open its own objects only.
        }
    }

    private static func rename(_ from: [UInt8], _ to: [UInt8]) throws {
        do { try FileSystem.rename(from, to: to) } catch {
            throw DriftError(.io, path: from, "cannot move it to \(PathBytes.display(to))", errno: error)
        }
    }
}
