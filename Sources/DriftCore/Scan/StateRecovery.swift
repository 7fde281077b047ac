import DriftGit
import DriftSystem

/// Rebuilds a state whose `state.json` cannot be read back (damaged, oversized) instead of
/// failing every run until a person moves it aside: drifted paths and their first sightings
/// come from the journal's latest snapshot (what was recorded last), everything else starts
/// afresh. The next scan re-derives drift from the tree; paths it finds that the snapshot
/// lists keep their first sighting, so a deadline is not restarted by a broken file.
public enum StateRecovery {
    /// The damaged file's name once moved aside (one kept, the newest).
    static let asideName = "state.json.damaged"
    /// A `state.log` holding a record drift could not fold, as kept aside (one, the newest).
    static let logAsideName = "state.log.damaged"

    /// Which file a recovery could not read.
    public enum Damaged: Sendable {
        /// `state.json` (damaged, oversized): the state is rebuilt from the journal.
        case state
        /// `state.log` (a record that checksums but does not decode, or a log over the read
        /// cap): `state.json` and the records that decode are kept, the journal fills in.
        case log
    }

    /// Why a state was rebuilt instead of read; the next locked write keeps the damaged file
    /// aside (`asideName`) and writes `state.json` whole.
    public struct Cause: Sendable {
        public var why: String
        public var damaged: Damaged
        /// The name the damaged file is kept under in the state dir.
        public var asideName: String { damaged == .state ? StateRecovery.asideName : StateRecovery.logAsideName }

        /// The one warning line (no `drift: warning: ` prefix, no newline), `drift scan` and
        /// `drift watch` alike (incident 13, F4: the watcher recovered silently).
        public func warning(_ state: StateDirectory) -> String {
            let aside = PathBytes.display(state.file(asideName))
            let done = damaged == .state ? "rebuilt the state from the journal (the old file is \(aside))"
                : "skipped, the journal's latest snapshot keeps first sightings (the old log is \(aside))"
            return "\(why); \(done)"
        }
    }

    /// A state for `commit` from the journal's latest snapshot, marked `recovered`. Reads
    /// only; a journal that cannot be read gives an empty state (the scan that follows
    /// records drift again, with its own time as first sighting).
    static func rebuild(_ dir: StateDirectory, commit: String, why: String) -> DriftState {
        var s = DriftState(commit: commit)
        s.recovered = Cause(why: why, damaged: .state)
        switch journalItems(dir, commit: commit) {
        case .success(let items): s.items = items
        case .failure(let error):
            s.recovered?.why = "\(why); the journal could not be read either (\(errorText(error))), "
                + "so recorded drift is first seen now"
        }
        return s
    }

    /// `s`, folded from `state.json` and the records of `state.log` that decode, after some
    /// did not (`why`): items the journal's latest snapshot records and `s` lacks (nor covers
    /// by a summary) are added with their first sighting, so what a skipped record put is
    /// not first seen again; the scan that follows drops what is no longer drifted.
    static func refill(_ s: inout DriftState, _ dir: StateDirectory, why: String) {
        s.recovered = Cause(why: why, damaged: .log)
        let recorded: [DriftState.Item]
        switch journalItems(dir, commit: s.commit) {
        case .success(let items): recorded = items
        case .failure(let error):
            s.recovered?.why = "\(why); the journal could not be read either (\(errorText(error)))"
            return
        }
        let have = Set(s.items.filter { $0.count == nil }.map(\.path))
        let summaries = SummaryIndex(s.items)
        let missing = recorded.filter {
            $0.count == nil
                ? !have.contains($0.path)
                    && summaries.covering($0.path, change: $0.change, fileClass: $0.fileClass) == nil
                : !summaries.holds($0)
        }
        guard !missing.isEmpty else { return }
        s.items += missing
        StateLog.canonicalOrder(&s.items)
    }

    /// The items of the journal's latest snapshot for `commit` (none without a journal or
    /// for another commit), sorted and summarised as a scan would keep them.
    private static func journalItems(_ dir: StateDirectory, commit: String) -> Result<[DriftState.Item], any Error> {
        // No journal yet is fine (nothing recorded to keep); one that cannot be read is said.
        let latest: SnapshotInfo?
        do { latest = try latestSnapshot(dir) } catch { return .failure(error) }
        guard let info = latest, info.base.hex == commit else { return .success([]) }
        var items = info.entries.map {
            var i = DriftState.Item(path: PathBytes.escape($0.path), firstSeen: Timestamp.format($0.firstSeen),
                                    change: $0.change, fileClass: $0.fileClass)
            // A summarised directory (drift.snapshot/2) is the state's summary item of it.
            if case .summary(let s) = $0.recorded { i.count = s.count }
            return i
        }
        items.sort { a, b in
            PathBytes.less(PathBytes.unescape(a.path.utf8) ?? [], PathBytes.unescape(b.path.utf8) ?? [])
        }
        StateSummary.apply(&items)
        return .success(items)
    }

    /// The journal's latest snapshot record, opened read-only (no alternates rewritten).
    private static func latestSnapshot(_ dir: StateDirectory) throws -> SnapshotInfo? {
        let path = dir.file("journal.git")
        guard !FileSystem.isAbsent(path.appending(text: "/objects")) else { return nil }
        let repo = try GitRepository(path: path)
        guard let id = try repo.reference(Journal.ref) else { return nil }
        return try SnapshotInfo.read(repo, id)
    }

    /// Keeps the file `cause` names aside (the caller holds the lock and writes the rebuilt
    /// state next). `state.json` is renamed; `state.log` is copied by an atomic write (the
    /// write that follows removes it; a crash between leaves it to be recovered again),
    /// or renamed when it is over the read cap.
    static func moveAside(_ dir: StateDirectory, _ cause: Cause) throws {
        if cause.damaged == .log {
            let log = dir.file(StateLog.name)
            guard case .success(let st) = lstatBytes(log) else { return }
            if st.kind == .regular && st.size <= Int64(StateDirectory.stateReadLimit) {
                let bytes = try readWholeFile(log, limit: StateDirectory.stateReadLimit, followSymlinks: false)
                try AtomicFile.write(bytes, to: dir.file(logAsideName), mode: 0o600)
                return
            }
            try rename(dir, log, to: logAsideName)
            return
        }
        try rename(dir, dir.file("state.json"), to: asideName)
    }

    private static func rename(_ dir: StateDirectory, _ from: [UInt8], to name: String) throws {
        let to = dir.file(name)
        do { try FileSystem.rename(from, to: to) } catch {
            if error == .noSuchFileOrDirectory { return }
            throw DriftError(.io, path: from, "cannot move the unreadable state file aside", errno: error)
        }
    }
}
