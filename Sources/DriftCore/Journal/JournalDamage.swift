import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A journal drift cannot read (its branch, HEAD or config garbled, the objects its branch names
/// missing or corrupt, a pack truncated) is set aside like a redeploy's old state, never
/// deleted (it is evidence), and a new journal is started: otherwise every scan fails on it
/// and reports no drift at all (incident 13, F11). Any process of the container may write
/// the state dir, so this is a way to blind drift, not only a disk fault.
public enum JournalDamage {
    /// The prefix of a damaged journal's name under `previous/` (then its time, as archives).
    static let prefix = "journal-damaged-"

    /// A journal set aside by this run.
    public struct SetAside: Sendable {
        /// What could not be read (libgit2's account, or HEAD's).
        public var why: String
        /// The journal's path, where it was.
        public var from: [UInt8]
        /// Where it is now (`SDIR/previous/journal-damaged-<time>.git`).
        public var to: [UInt8]

        /// The one warning line (no `drift: warning: ` prefix, no newline): stderr and the `--log`.
        public var warning: String {
            "\(PathBytes.display(from)) cannot be read (\(why)); moved it to \(PathBytes.display(to)) and started a "
                + "new journal: first sightings are kept from state.json, snapshots and exports before now are only "
                + "in the moved journal"
        }
    }

    /// Why the journal of `state` cannot be read; nil when it reads (or there is none).
    /// The branch, the latest snapshot's commit, its tree's header and the notes' tip are read;
    /// `deep` also reads the latest record and the parent link (a record's failure confirmed).
    /// - Throws: only what is no damage: I/O failures, permissions (moving aside would not help).
    static func probe(_ state: StateDirectory, deep: Bool) throws -> String? {
        let path = state.file("journal.git")
        if FileSystem.isAbsent(path.appending(text: "/objects")) { return nil }
        if let bad = try headProblem(path) { return bad }
        if let bad = try shallowProblem(path) { return bad }
        do {
            let repo = try GitRepository(path: path)
            guard let tip = try repo.reference(Journal.ref) else { return nil }
            _ = try repo.odb().header(try repo.treeOf(commit: tip))
            if let notes = try repo.reference(Journal.notesRef) { _ = try repo.treeOf(commit: notes) }
            if deep {
                _ = try SnapshotInfo.read(repo, tip)
                _ = try repo.parents(of: tip)
            }
            return nil
        } catch let e as GitError where e.isDamage {
            return e.description
        } catch let e as DriftError where isDamage(e) {
            return e.reason
        }
    }

    /// A repository that does not open as one, or a record that does not decode.
    private static func isDamage(_ e: DriftError) -> Bool {
        if let g = e.underlying as? GitError { return g.isDamage }
        return e.code == .stateDamaged
    }

    /// HEAD must name a reference or a commit: libgit2 reads it only when asked, so a garbled
    /// one is checked here (git itself refuses such a repository).
    private static func headProblem(_ path: [UInt8]) throws -> String? {
        let head = path.appending(text: "/HEAD")
        guard case .success(let st) = lstatBytes(head), st.kind == .regular else { return "HEAD is missing" }
        let bytes = try readWholeFile(head, limit: 4096, followSymlinks: false)
        let line = bytes.last == 0x0A ? bytes.dropLast() : bytes[...]
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("ref: refs/") || ObjectID(hex: text) != nil { return nil }
        return "HEAD names neither a reference nor a commit"
    }

    /// `shallow` (drift writes the base commit there) must name a commit: another base's is a
    /// redeploy (`StateArchive`), not damage; garbage made every open refuse the journal.
    private static func shallowProblem(_ path: [UInt8]) throws -> String? {
        let file = path.appending(text: "/shallow")
        if FileSystem.isAbsent(file) { return nil }
        let bytes = try readWholeFile(file, limit: 4096, followSymlinks: false)
        let line = bytes.last == 0x0A ? bytes.dropLast() : bytes[...]
        return ObjectID(hex: String(decoding: line, as: UTF8.self)) == nil ? "shallow names no commit" : nil
    }

    /// Under the state lock: when the journal cannot be read, moves it to
    /// `SDIR/previous/journal-damaged-<time>.git` (renamed whole); nil when it reads.
    /// - Parameter deep: `probe`'s.
    static func setAsideIfDamaged(_ state: StateDirectory, now: Date, deep: Bool) throws -> SetAside? {
        guard let why = try probe(state, deep: deep) else { return nil }
        let from = state.file("journal.git")
        let prev = state.file(StateArchive.directory)
        try AtomicFile.makeDirectory(prev, mode: 0o700)
        let stamp = Timestamp.format(now).filter { $0 != "-" && $0 != ":" }
        var name = "\(prefix)\(stamp).git"
        var n = 1
        while !FileSystem.isAbsent(PathBytes.join(prev, Array(name.utf8))) {
            n += 1
            name = "\(prefix)\(stamp)-\(n).git"
        }
        let to = PathBytes.join(prev, Array(name.utf8))
        do { try FileSystem.rename(from, to: to) } catch {
            throw DriftError(.io, path: from, "cannot move the unreadable journal to \(PathBytes.display(to))",
                             errno: error)
        }
        AtomicFile.syncDirectory(of: prev)
        AtomicFile.syncDirectory(of: state.path)
        return SetAside(why: DriftError.neutralised(why), from: from, to: to)
    }

    /// The journals set aside under `previous/` after `since` (the last export; nil: all), newest
    /// first, with the time each was moved: `drift status` names them until an export.
    static func setAside(in state: StateDirectory, since: Date?) -> [(path: [UInt8], at: Date)] {
        let prev = state.file(StateArchive.directory)
        guard !FileSystem.isAbsent(prev), let names = directoryEntries(prev) else { return [] }
        let p = Array(prefix.utf8)
        var out: [(path: [UInt8], at: Date)] = []
        for n in names where n.starts(with: p) {
            let stamp = String(decoding: n.dropFirst(p.count).prefix(16), as: UTF8.self)
            guard let at = compactTime(stamp) else { continue }
            // An export in the same second as the move was made after it (the same run's).
            if let since, at <= since { continue }
            out.append((PathBytes.join(prev, n), at))
        }
        return out.sorted { $0.at > $1.at }
    }

    /// `20261207T140712Z` back to a date.
    private static func compactTime(_ s: String) -> Date? {
        let c = Array(s)
        guard c.count == 16 else { return nil }
        let iso = String(c[0..<4]) + "-" + String(c[4..<6]) + "-" + String(c[6..<8]) + "T" + String(c[9..<11]) + ":"
            + String(c[11..<13]) + ":" + String(c[13..<15]) + "Z"
        return Timestamp.parse(iso)
    }

    /// Whether a name under `previous/` is a damaged journal (not an earlier base's state).
    static func isSetAsideName(_ name: [UInt8]) -> Bool { name.starts(with: Array(prefix.utf8)) }
}
